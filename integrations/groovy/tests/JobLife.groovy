/**
 * The life of a job as both clients push it, checked on the server with
 * GET /api/v1/status: start, finish with a message, another domain fails
 * with a message too long for the API, a batch of two. `client` holds the
 * four helpers as closures: start(app, domain, job), finish(app, domain, job,
 * message), fail(app, domain, job, message), batch(job, updates).
 */
class JobLife {
    static void check(Checks checks, TestServer server, String jobPrefix, Map<String, Closure> client) {
        String load = jobPrefix + '_LOAD_001', full = jobPrefix + '_FULL_003'
        checks.equal(client.start('Planning', 'Actual', load), true, 'start pushed')
        checks.equal(server.domain('Planning', 'Actual')?.status, 'Loading', 'start arrived as Loading')
        checks.equal(client.finish('Planning', 'Actual', load, 'Loaded 12,000 rows'), true, 'finish pushed')
        Map actual = server.domain('Planning', 'Actual')
        checks.equal(actual?.status, 'OK', 'finish arrived as OK')
        checks.equal(actual?.job_id, load, 'the job id arrived')
        checks.equal(actual?.message, 'Loaded 12,000 rows', 'the message arrived')
        checks.check(actual?.duration_sec instanceof Number, "Loading to OK under one job id has a duration (${actual})")
        checks.equal(client.fail('Planning', 'Budget', jobPrefix + '_LOAD_002', 'x' * 500), true,
                     'fail pushed, its long message clipped to what the API accepts')
        Map budget = server.domain('Planning', 'Budget')
        checks.equal(budget?.status, 'Warning', 'fail arrived as Warning')
        checks.equal(budget?.message?.length(), 200, 'the message was clipped to 200 characters')
        checks.equal(client.batch(full, [[app: 'Planning', domain: 'Forecast', status: 'OK'],
                                         [app: 'FCCS', domain: 'Consolidation', status: 'Warning', message: 'late']]),
                     true, 'batch pushed')
        checks.equal(server.domain('Planning', 'Forecast')?.job_id, full, 'batch item 1 arrived with the batch job id')
        Map consolidation = server.domain('FCCS', 'Consolidation')
        checks.equal([consolidation?.status, consolidation?.message], ['Warning', 'late'], 'batch item 2 arrived')
    }
}
