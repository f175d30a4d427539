import groovy.json.JsonOutput

import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.time.Instant
import java.time.temporal.ChronoUnit

/**
 * EPMPulse status pushes from Groovy outside EPM Cloud (JDK 11+, no library
 * beyond the JDK and Groovy). The API key comes from the environment
 * (EPMPULSE_API_KEY), never from the script.
 *
 *   def pulse = EpmPulseClient.fromEnvironment()
 *   pulse.start('Planning', 'Actual', jobId)
 *   ...
 *   ok ? pulse.finish('Planning', 'Actual', jobId) : pulse.fail('Planning', 'Actual', jobId, error)
 *
 * A push that fails (EPMPulse down, slow, or answering 4xx/5xx) is reported
 * on stderr and returns false: the job goes on. With strict: true it throws
 * EpmPulseException (EpmPulseException.groovy) instead.
 */
class EpmPulseClient {
    static final int MAX_JOB_ID = 100
    static final int MAX_MESSAGE = 200

    final URI baseUrl
    final boolean strict
    final Duration requestTimeout
    private final String apiKey
    private final HttpClient http

    /**
     * options: strict (false), connectTimeoutSec (3), requestTimeoutSec (5).
     * A push is confirmed on disk before EPMPulse answers, in milliseconds;
     * the short timeouts only bound how long a job waits for a server that
     * does not answer.
     */
    EpmPulseClient(String baseUrl, String apiKey, Map options = [:]) {
        if (!apiKey)
            throw new IllegalArgumentException('EPMPulse: no API key (set EPMPULSE_API_KEY)')
        this.baseUrl = URI.create(baseUrl.endsWith('/') ? baseUrl[0..-2] : baseUrl)
        this.apiKey = apiKey
        this.strict = options.strict as boolean
        this.requestTimeout = Duration.ofMillis(((options.requestTimeoutSec ?: 5) as double) * 1000 as long)
        this.http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofMillis(((options.connectTimeoutSec ?: 3) as double) * 1000 as long))
            .build()
    }

    /**
     * EPMPULSE_URL (default http://127.0.0.1:18800), EPMPULSE_API_KEY (a
     * write key, required), EPMPULSE_STRICT (1 or true: failures throw).
     */
    static EpmPulseClient fromEnvironment(Map<String, String> env = System.getenv(), Map options = [:]) {
        String key = env.EPMPULSE_API_KEY
        if (!key)
            throw new IllegalStateException('EPMPulse: EPMPULSE_API_KEY is not set (a write key from the EPMPulse configuration)')
        Map merged = [strict: env.EPMPULSE_STRICT in ['1', 'true', 'yes']] + options
        new EpmPulseClient(env.EPMPULSE_URL ?: 'http://127.0.0.1:18800', key, merged)
    }

    boolean start(String app, String domain, String jobId) {
        push(app, domain, 'Loading', jobId)
    }

    boolean finish(String app, String domain, String jobId, String message = null) {
        push(app, domain, 'OK', jobId, message)
    }

    boolean fail(String app, String domain, String jobId, String message) {
        push(app, domain, 'Warning', jobId, message)
    }

    /** One status: Blank, Loading, OK or Warning. */
    boolean push(String app, String domain, String status, String jobId, String message = null) {
        Map update = [app: app, domain: domain ?: 'default', status: status, timestamp: now()]
        if (jobId)
            update.job_id = clip(jobId, MAX_JOB_ID)
        if (message)
            update.message = clip(message, MAX_MESSAGE)
        send('/api/v1/status', update, "${app}/${update.domain} ${status}")
    }

    /**
     * Up to 100 updates ([app:, domain:, status:, message:]) applied as one
     * change; they share jobId and the time of the call.
     */
    boolean batch(String jobId, List<Map> updates) {
        Map body = [timestamp: now(),
                    updates  : updates.collect { Map u ->
                        Map item = [app: u.app, domain: u.domain ?: 'default', status: u.status]
                        if (u.message)
                            item.message = clip(u.message as String, MAX_MESSAGE)
                        item
                    }]
        if (jobId)
            body.job_id = clip(jobId, MAX_JOB_ID)
        send('/api/v1/status/batch', body, "batch of ${updates.size()}")
    }

    private boolean send(String path, Map payload, String what) {
        String problem
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl.toString() + path))
                .timeout(requestTimeout)
                .header('Authorization', 'Bearer ' + apiKey)
                .header('Content-Type', 'application/json')
                .POST(HttpRequest.BodyPublishers.ofString(JsonOutput.toJson(payload)))
                .build()
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString())
            if (response.statusCode() in 200..299)
                return true
            problem = "HTTP ${response.statusCode()}: ${clip(response.body(), 300)}"
        } catch (IOException e) {
            problem = "${e.getClass().simpleName}: ${e.message ?: 'no answer'}"
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt()
            problem = 'interrupted'
        }
        String report = "EPMPulse: ${what} not pushed to ${baseUrl} (${problem})"
        if (strict)
            throw new EpmPulseException(report)
        System.err.println(report)
        false
    }

    private static String now() {
        Instant.now().truncatedTo(ChronoUnit.MILLIS).toString()
    }

    private static String clip(String text, int limit) {
        text == null || text.length() <= limit ? text : text.substring(0, limit)
    }

    @Override
    String toString() { "EpmPulseClient(${baseUrl}, strict=${strict})" }
}
