import groovy.json.JsonOutput
import groovy.json.JsonSlurper

import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * The real server (build/epmpulse) for the clients' tests: a temporary
 * configuration and data directory, 127.0.0.1 port 0, the port read from its
 * "listening" log line. Its log goes into the run's test-logs directory, and
 * its keys are registered there, so integration.log_secrets scans it
 * (tests/support/log_secrets.hpp describes both files).
 */
class TestServer {
    final String binary
    final File logDir
    final String name
    final File dir = Files.createTempDirectory('epmpulse-groovy-').toFile()
    final String writeKey = 'groovy-write-' + UUID.randomUUID().toString().replace('-', '')
    final String readKey = 'groovy-read-' + UUID.randomUUID().toString().replace('-', '')
    // Names this run's files apart from other runs' (Groovy 2.4 cannot call
    // ProcessHandle.current(), a static interface method).
    private final String runId = UUID.randomUUID().toString().substring(0, 8)
    int port
    private Process process
    private File log
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(3)).build()

    TestServer(String binary, String logDir, String name) {
        this.binary = binary
        this.logDir = new File(logDir)
        this.name = name
        this.logDir.mkdirs()
        File secrets = new File(this.logDir, "secrets-${name}-${runId}.jsonl")
        secrets << JsonOutput.toJson(writeKey) + '\n' << JsonOutput.toJson(readKey) + '\n'
    }

    String getBaseUrl() { "http://127.0.0.1:${port}" }

    void start() {
        File config = new File(dir, 'config.json')
        config.text = JsonOutput.prettyPrint(JsonOutput.toJson([
            apps    : [Planning: [domains: ['Actual', 'Budget', 'Forecast'], channels: []],
                       FCCS    : [domains: ['Consolidation'], channels: []]],
            channels: [:],
            api_keys: [[name: 'groovy_write', key: writeKey, role: 'write'],
                       [name: 'groovy_read', key: readKey, role: 'read']],
            settings: [log_level: 'info', rate_limits: [enabled: false]]]))
        log = new File(logDir, "${name}-${runId}-server.log")
        ProcessBuilder builder = new ProcessBuilder(binary, '--config', config.path,
            '--data-dir', new File(dir, 'data').path, '--host', '127.0.0.1', '--port', '0')
        builder.environment().keySet().removeAll { String k -> k.startsWith('EPMPULSE_') }
        builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log))
        process = builder.start()
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
        while (System.nanoTime() < deadline) {
            Integer announced = listeningPort()
            if (announced) {
                port = announced
                return
            }
            if (!process.alive)
                throw new IllegalStateException("server exited with ${process.exitValue()} before listening:\n${log.text}")
            Thread.sleep(20)
        }
        process.destroyForcibly()
        throw new IllegalStateException("server did not log \"listening\" within 30 s:\n${log.text}")
    }

    private Integer listeningPort() {
        for (String line : log.readLines()) {
            if (!line.startsWith('{'))
                continue
            def entry = new JsonSlurper().parseText(line)
            if (entry.message == 'listening' && entry.fields?.port instanceof Integer)
                return entry.fields.port as Integer
        }
        null
    }

    /** SIGTERM, then the exit code (0 on a clean stop). */
    int stop() {
        if (process == null)
            return 0
        process.destroy()
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly()
            process.waitFor()
        }
        int code = process.exitValue()
        process = null
        code
    }

    /** GET /api/v1/status with the read key, parsed. */
    Map status() {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + '/api/v1/status'))
            .timeout(Duration.ofSeconds(5)).header('Authorization', 'Bearer ' + readKey).GET().build()
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString())
        if (response.statusCode() != 200)
            throw new IllegalStateException("GET /api/v1/status answered ${response.statusCode()}: ${response.body()}")
        new JsonSlurper().parseText(response.body()) as Map
    }

    Map domain(String app, String domain) {
        status().apps?.get(app)?.get(domain) as Map
    }

    void cleanup() {
        stop()
        dir.deleteDir()
    }
}
