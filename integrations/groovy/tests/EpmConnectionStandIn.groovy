import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration

/**
 * A stand-in for the part of EPM Cloud's Groovy object model a rule uses to
 * call an external REST API, as Oracle documents it: operation.application
 * .getConnection(name) gives a Connection; get/post/put/delete(path) give a
 * request to the Connection's URL + path, with header(name, value), body(String)
 * and asString(), whose response has status, statusText, body and headers.
 * Headers configured on the Connection (Advanced Options, Type Header) go on
 * every request, as EPM sends them. It forwards to a real server and
 * records what each request carried.
 */
class EpmConnectionStandIn {
    /** What one request carried: the rule's own headers apart from the Connection's. */
    static class Sent {
        String method
        String url
        Map<String, String> ruleHeaders
        String body
    }

    final List<Sent> sent = []
    private final Map<String, Map> connections = [:]
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(3)).build()

    /** A Connection named `name`: its URL and its configured headers. */
    void define(String name, String url, Map<String, String> headers) {
        connections[name] = [url: url, headers: headers]
    }

    /** The `operation` a rule sees. */
    Map getOperation() {
        [application: [getConnection: { String name -> connection(name) }]]
    }

    private Connection connection(String name) {
        Map c = connections[name]
        if (c == null)
            throw new IllegalArgumentException("no connection named ${name}")
        new Connection(this, c.url as String, c.headers as Map)
    }

    static class Connection {
        private final EpmConnectionStandIn owner
        private final String url
        private final Map<String, String> headers

        Connection(EpmConnectionStandIn owner, String url, Map<String, String> headers) {
            this.owner = owner
            this.url = url
            this.headers = headers
        }

        Request get(String path = '') { new Request(owner, 'GET', url + path, headers) }
        Request post(String path = '') { new Request(owner, 'POST', url + path, headers) }
        Request put(String path = '') { new Request(owner, 'PUT', url + path, headers) }
        Request delete(String path = '') { new Request(owner, 'DELETE', url + path, headers) }
    }

    static class Request {
        private final EpmConnectionStandIn owner
        private final String method
        private final String url
        private final Map<String, String> connectionHeaders
        private final Map<String, String> ruleHeaders = [:]
        private String body = ''

        Request(EpmConnectionStandIn owner, String method, String url, Map<String, String> connectionHeaders) {
            this.owner = owner
            this.method = method
            this.url = url
            this.connectionHeaders = connectionHeaders
        }

        Request header(String name, String value) { ruleHeaders[name] = value; this }
        Request body(String text) { body = text; this }

        Response asString() {
            owner.sent << new Sent(method: method, url: url, ruleHeaders: new LinkedHashMap(ruleHeaders), body: body)
            HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
                .method(method, body ? HttpRequest.BodyPublishers.ofString(body) : HttpRequest.BodyPublishers.noBody())
            (connectionHeaders + ruleHeaders).each { String k, String v -> builder.header(k, v) }
            HttpResponse<String> r = owner.http.send(builder.build(), HttpResponse.BodyHandlers.ofString())
            new Response(status: r.statusCode(), statusText: reason(r.statusCode()), body: r.body(),
                         headers: r.headers().map())
        }

        private static String reason(int code) {
            [200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
             422: 'Unprocessable Entity', 429: 'Too Many Requests', 503: 'Service Unavailable'][code] ?: ''
        }
    }

    static class Response {
        int status
        String statusText
        String body
        Map headers
    }
}
