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

    checks.equal(pulse.start('Planning', 'Actual', 'ODI_LOAD_001'), true, 'start pushed')
    checks.equal(server.domain('Planning', 'Actual')?.status, 'Loading', 'start arrived as Loading')
    checks.equal(pulse.finish('Planning', 'Actual', 'ODI_LOAD_001', 'Loaded 5 files'), true, 'finish pushed')
    Map actual = server.domain('Planning', 'Actual')
    checks.equal(actual?.status, 'OK', 'finish arrived as OK')
    checks.equal(actual?.message, 'Loaded 5 files', 'the message arrived')
    checks.check(actual?.duration_sec instanceof Number, "Loading to OK under one job id has a duration (${actual})")
    checks.equal(pulse.fail('Planning', 'Budget', 'ODI_LOAD_002', 'y' * 300), true, 'fail pushed, message clipped')
    Map budget = server.domain('Planning', 'Budget')
    checks.equal(budget?.status, 'Warning', 'fail arrived as Warning')
    checks.equal(budget?.message?.length(), 200, 'the message was clipped to 200 characters')
    checks.equal(pulse.batch('ODI_FULL_003', [[app: 'Planning', domain: 'Forecast', status: 'OK'],
                                              [app: 'FCCS', domain: 'Consolidation', status: 'Warning', message: 'late']]),
                 true, 'batch pushed')
    checks.equal(server.domain('Planning', 'Forecast')?.job_id, 'ODI_FULL_003', 'batch item 1 arrived with the batch job id')
    checks.equal(server.domain('FCCS', 'Consolidation')?.message, 'late', 'batch item 2 arrived')

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
