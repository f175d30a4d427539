// clients.groovy_epm: epmpulse_rule.groovy's client block, run as a business
// rule over EpmConnectionStandIn (EPM's Connection API) against the real
// server. Arguments: the server binary, the test-logs directory, integrations/groovy.
import groovy.json.JsonSlurper
import org.codehaus.groovy.control.CompilerConfiguration

String binary = args[0], logDir = args[1], groovyDir = args[2]
def checks = new Checks('clients.groovy_epm')
def server = new TestServer(binary, logDir, 'clients.groovy_epm')

// The block a user pastes into a rule, exactly as the template has it.
String template = new File(groovyDir, 'epmpulse_rule.groovy').text
int begin = template.indexOf('// ---- EPMPulse client: begin')
int end = template.indexOf('// ---- EPMPulse client: end')
checks.check(begin >= 0 && end > begin, 'the template marks its client block')
String block = template.substring(begin, end)
checks.check(!block.contains('java.net.URL') && !block.contains('openConnection'),
             'the block opens no URL itself (EPM rules may not)')
checks.check(!(block =~ /(?i)bearer\s+\w/), 'the block holds no key')

def epm = new EpmConnectionStandIn()
def config = new CompilerConfiguration()
config.scriptBaseClass = EpmRuleScript.name
Script rule = new GroovyShell(this.class.classLoader, new Binding([operation: epm.operation]), config).parse(block)
rule.run()

try {
    server.start()
    epm.define('EPMPulse', server.baseUrl, [Authorization: 'Bearer ' + server.writeKey])

    JobLife.check(checks, server, 'EPM', [
        start : { String app, String domain, String job -> rule.epmPulseStart(app, domain, job) },
        finish: { String app, String domain, String job, String message -> rule.epmPulseFinish(app, domain, job, message) },
        fail  : { String app, String domain, String job, String message -> rule.epmPulseFail(app, domain, job, message) },
        batch : { String job, List updates -> rule.epmPulseBatch(job, updates) }])

    // What went over the Connection: the rule's own headers carry no key.
    checks.equal(epm.sent.size(), 4, 'four requests went over the Connection')
    checks.equal(epm.sent*.url.collect { it - server.baseUrl },
                 ['/api/v1/status', '/api/v1/status', '/api/v1/status', '/api/v1/status/batch'], 'the paths')
    checks.check(epm.sent.every { it.method == 'POST' && it.ruleHeaders == ['Content-Type': 'application/json'] },
                 "the rule sets only Content-Type; the key is the Connection's header (${epm.sent*.ruleHeaders})")
    checks.check(epm.sent.every { !it.body.contains(server.writeKey) }, 'no body holds the key')
    Map first = new JsonSlurper().parseText(epm.sent[0].body) as Map
    checks.equal(first.keySet(), ['app', 'domain', 'status', 'timestamp', 'job_id'] as Set, 'the fields of a start')
    checks.check(first.timestamp ==~ /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/, "an RFC 3339 UTC timestamp: ${first.timestamp}")

    // Refused pushes: false and the rule goes on; strict stops the rule.
    checks.equal(rule.epmPulseStart('Unknown', 'Actual', 'EPM_BAD_004'), false, 'an unconfigured app is refused, the rule goes on')
    def refused = checks.throwsFrom('strict: a refused push vetoes the rule') {
        rule.epmPulseStart('Unknown', 'Actual', 'EPM_BAD_005', [strict: true])
    }
    checks.check(refused instanceof VetoException && refused.message.contains('HTTP 400'),
                 "the veto names the HTTP status: ${refused?.message}")
    checks.check(!refused?.message?.contains(server.writeKey), 'the veto holds no key')
    checks.equal(rule.epmPulseStart('Planning', 'Actual', 'X', [connection: 'Missing']), false,
                 'a Connection that does not exist fails the push, not the rule')

    // EPMPulse down: the push fails, the rule does not; strict vetoes.
    checks.equal(server.stop(), 0, 'the server stopped cleanly')
    checks.equal(rule.epmPulseStart('Planning', 'Actual', 'EPM_DOWN_006'), false, 'server down: the push fails')
    def down = checks.throwsFrom('server down, strict: the rule is vetoed') {
        rule.epmPulseFinish('Planning', 'Actual', 'EPM_DOWN_006', null, [strict: true])
    }
    checks.check(down instanceof VetoException && down.message.contains('Planning/Actual OK not pushed'),
                 "the veto says what was not pushed: ${down?.message}")
} finally {
    server.cleanup()
}
System.exit(checks.finish())
