/*
 * EPMPulse status pushes from an Oracle EPM Cloud Groovy business rule.
 *
 * A rule cannot open a URL itself: it calls external REST APIs through a
 * Connection of the application (Tools > Connections > Create > Other Web
 * Service Provider), named EPMPULSE_CONNECTION below, whose URL is the
 * EPMPulse base URL (https, port 443: e.g. https://epmpulse.example.com) and
 * which holds the API key as a secured header:
 *     Type Header, Secure checked, Name Authorization, Value Bearer <write key>
 * The key lives in that Connection (encrypted by EPM), never in a rule.
 * integrations/groovy/README.md walks through it.
 *
 * Paste the block between the two markers at the top of the rule; call the
 * helpers where the job starts, ends or fails. A push that fails (EPMPulse
 * down, a bad field) is printed to the job console and the rule goes on;
 * with [strict: true] (per call) or strict: true in epmPulseSettings() it
 * stops the rule with throwVetoException instead.
 */

// ---- EPMPulse client: begin ------------------------------------------------
Map epmPulseSettings() {
    [connection: 'EPMPulse', // the Connection's name in this application
     strict    : false]      // true: a push that fails fails the rule
}

boolean epmPulseStart(String app, String domain, String jobId, Map options = [:]) {
    epmPulsePush(app, domain, 'Loading', jobId, null, options)
}

boolean epmPulseFinish(String app, String domain, String jobId, String message = null, Map options = [:]) {
    epmPulsePush(app, domain, 'OK', jobId, message, options)
}

boolean epmPulseFail(String app, String domain, String jobId, String message, Map options = [:]) {
    epmPulsePush(app, domain, 'Warning', jobId, message, options)
}

// status: Blank, Loading, OK or Warning.
boolean epmPulsePush(String app, String domain, String status, String jobId, String message = null,
                     Map options = [:]) {
    Map update = [app: app, domain: domain ?: 'default', status: status, timestamp: epmPulseNow()]
    if (jobId)
        update.job_id = epmPulseClip(jobId, 100)
    if (message)
        update.message = epmPulseClip(message, 200)
    epmPulseSend('/api/v1/status', update, "${app}/${update.domain} ${status}", options)
}

// Up to 100 updates [app:, domain:, status:, message:], applied as one change.
boolean epmPulseBatch(String jobId, List<Map> updates, Map options = [:]) {
    List<Map> items = updates.collect { Map u ->
        Map item = [app: u.app, domain: u.domain ?: 'default', status: u.status]
        if (u.message)
            item.message = epmPulseClip(u.message as String, 200)
        item
    }
    Map batch = [timestamp: epmPulseNow(), updates: items]
    if (jobId)
        batch.job_id = epmPulseClip(jobId, 100)
    epmPulseSend('/api/v1/status/batch', batch, "batch of ${items.size()}", options)
}

boolean epmPulseSend(String path, Map payload, String what, Map options) {
    Map settings = epmPulseSettings() + options
    String problem = null
    try {
        def response = operation.application.getConnection(settings.connection as String)
            .post(path)
            .header('Content-Type', 'application/json')
            .body(json(payload))
            .asString()
        if (response.status >= 200 && response.status < 300) {
            println "EPMPulse: ${what} pushed"
            return true
        }
        problem = "HTTP ${response.status} ${response.statusText}: ${epmPulseClip(response.body as String, 300)}"
    } catch (Exception e) {
        problem = "${e.getClass().simpleName}: ${e.message ?: 'no answer'}"
    }
    String report = "EPMPulse: ${what} not pushed (${problem})"
    println report
    if (settings.strict)
        throwVetoException(report)
    return false
}

String epmPulseNow() {
    new Date().format("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", TimeZone.getTimeZone('UTC'))
}

String epmPulseClip(String text, int limit) {
    text == null || text.length() <= limit ? text : text.substring(0, limit)
}
// ---- EPMPulse client: end --------------------------------------------------

/*
 * Example rule body (a data load around the pushes):
 *
 *   String jobId = "LOAD_${new Date().format('yyyyMMdd_HHmmss', TimeZone.getTimeZone('UTC'))}"
 *   epmPulseStart('Planning', 'Actual', jobId)
 *   try {
 *       // ... the rule's work: a data map, a data load job, a calculation ...
 *       epmPulseFinish('Planning', 'Actual', jobId, 'Loaded 12,000 rows')
 *   } catch (Exception e) {
 *       epmPulseFail('Planning', 'Actual', jobId, "Load failed: ${e.message}")
 *       throw e
 *   }
 *
 *   // Several domains at once, one change on the canvas:
 *   epmPulseBatch(jobId, [[app: 'Planning', domain: 'Actual', status: 'OK'],
 *                         [app: 'FCCS', domain: 'Consolidation', status: 'OK']])
 */
