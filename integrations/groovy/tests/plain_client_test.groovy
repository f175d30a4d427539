// clients.groovy_plain: EpmPulseClient.groovy (JDK HttpClient) against the
// real server. Arguments: the server binary, the test-logs directory.
import groovy.json.JsonSlurper

String binary = args[0], logDir = args[1]
def checks = new Checks('clients.groovy_plain')
def server = new TestServer(binary, logDir, 'clients.groovy_plain')

def missing = checks.throwsFrom('no EPMPULSE_API_KEY: a clear error') {
    EpmPulseClient.fromEnvironment([EPMPULSE_URL: 'http://127.0.0.1:1'])
}
checks.check(missing instanceof IllegalStateException && missing.message.contains('EPMPULSE_API_KEY'),
             "the error names the variable: ${missing?.message}")

try {
    server.start()
    Map env = [EPMPULSE_URL: server.baseUrl + '/', EPMPULSE_API_KEY: server.writeKey]
    def pulse = EpmPulseClient.fromEnvironment(env)
    def strict = EpmPulseClient.fromEnvironment(env + [EPMPULSE_STRICT: '1'])
    checks.check(!pulse.strict && strict.strict, 'EPMPULSE_STRICT=1 makes a strict client')
    checks.check(!pulse.toString().contains(server.writeKey), "toString holds no key: ${pulse}")

    JobLife.check(checks, server, 'ODI', [
        start : { String app, String domain, String job -> pulse.start(app, domain, job) },
        finish: { String app, String domain, String job, String message -> pulse.finish(app, domain, job, message) },
        fail  : { String app, String domain, String job, String message -> pulse.fail(app, domain, job, message) },
        batch : { String job, List updates -> pulse.batch(job, updates) }])

    checks.equal(pulse.start('Unknown', 'Actual', 'ODI_BAD_004'), false, 'an unconfigured app is refused, no exception')
    def refused = checks.throwsFrom('strict: a refused push throws') { strict.start('Unknown', 'Actual', 'ODI_BAD_005') }
    checks.check(refused instanceof EpmPulseException && refused.message.contains('HTTP 400')
                 && refused.message.contains('INVALID_APP'), "the error names the status and code: ${refused?.message}")
    checks.check(!refused?.message?.contains(server.writeKey), 'the error holds no key')
    def wrongKey = new EpmPulseClient(server.baseUrl, 'not-a-configured-key-123', [strict: true])
    def unauthorized = checks.throwsFrom('a wrong key: strict throws') { wrongKey.start('Planning', 'Actual', 'K') }
    checks.check(unauthorized?.message?.contains('INVALID_KEY'), "a wrong key is refused as INVALID_KEY: ${unauthorized?.message}")
    checks.check(!unauthorized?.message?.contains('not-a-configured-key-123'), 'the error does not echo the key')

    checks.equal(server.stop(), 0, 'the server stopped cleanly')
    checks.equal(pulse.start('Planning', 'Actual', 'ODI_DOWN_006'), false, 'server down: false, no exception')
    def down = checks.throwsFrom('server down, strict: throws') { strict.finish('Planning', 'Actual', 'ODI_DOWN_006') }
    checks.check(down instanceof EpmPulseException && down.message.contains('Planning/Actual OK not pushed'),
                 "the error says what was not pushed: ${down?.message}")
} finally {
    server.cleanup()
}
System.exit(checks.finish())
