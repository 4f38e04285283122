package org.xdmedge.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.xdmedge.EdgeNode;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventReader;

/**
 * A real edge for tests: started in-process from a YAML configuration on a free loopback port, with
 * its own data directory, driven over HTTP with the JDK client.
 */
public final class TestEdge implements AutoCloseable {
    public static final String ORG = "53A16ACB5CC1D3760A495C99@AdobeOrg";
    /** One organization, an enabled datastream {@code ds} (dataset {@code web-events}) and a disabled one. */
    public static final String BASIC_CONFIG = """
            server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: ds
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                enabled: true
                dataset: web-events
              - id: off
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                enabled: false
                dataset: web-events
            """;

    private final EdgeNode node;
    private final Path dataDir;
    private final HttpClient client;

    private TestEdge(EdgeNode node, Path dataDir, HttpClient client) {
        this.node = node;
        this.dataDir = dataDir;
        this.client = client;
    }

    public static TestEdge start(String yaml, Path dataDir) throws Exception {
        return start(yaml, dataDir, null);
    }

    /** An HTTPS edge serving {@code certificate}; {@link #client()} trusts exactly that certificate. */
    public static TestEdge start(String yaml, Path dataDir, TestCertificate certificate) throws Exception {
        EdgeConfig parsed = new ConfigLoader().parse(yaml, "test");
        var s = parsed.server();
        EdgeConfig.TlsConfig tls = certificate == null ? s.tls()
                : new EdgeConfig.TlsConfig(certificate.certFile().toString(), certificate.keyFile().toString());
        EdgeConfig config = parsed.withServer(s.with("127.0.0.1", 0, tls));
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (certificate != null) {
            client.sslContext(certificate.sslContext());
        }
        return new TestEdge(EdgeNode.start(config, dataDir), dataDir, client.build());
    }

    public static TestEdge start(Path dataDir) throws Exception {
        return start(BASIC_CONFIG, dataDir);
    }

    public int port() {
        return node.port();
    }

    public EdgeNode node() {
        return node;
    }

    /** Waits (bounded) until {@code /ready} answers 200, for outlets that connect after start-up. */
    public void awaitReady(Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (get("/ready").statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("edge not ready within " + within);
            }
            Thread.sleep(100);
        }
    }

    public Path dataDir() {
        return dataDir;
    }

    public URI uri(String pathAndQuery) {
        return URI.create((node.tls() ? "https" : "http") + "://127.0.0.1:" + port() + pathAndQuery);
    }

    public HttpResponse<String> post(String pathAndQuery, String contentType, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).header("content-type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    public HttpResponse<String> postJson(String pathAndQuery, String body) throws IOException, InterruptedException {
        return post(pathAndQuery, "application/json", body);
    }

    /** As {@link #postJson}, not waiting for the answer (many requests in flight at once). */
    public CompletableFuture<HttpResponse<String>> postJsonAsync(String pathAndQuery, String body) {
        return client().sendAsync(HttpRequest.newBuilder(uri(pathAndQuery)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).GET());
    }

    public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpClient client() {
        return client;
    }

    /** Every stored event as its export line, parsed. */
    public List<JsonNode> exported() throws Exception {
        return exported(dataDir, null);
    }

    public static List<JsonNode> exported(Path dataDir, String dataset) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        if (!EventReader.exists(dataDir)) {
            return lines;
        }
        EventReader.forEach(dataDir, dataset, e -> {
            try {
                lines.add(EdgeJson.MAPPER.readTree(EventRecords.toBytes(e)));
            } catch (IOException ex) {
                throw new IllegalStateException(ex);
            }
        });
        return lines;
    }

    public static JsonNode json(String body) throws IOException {
        return EdgeJson.MAPPER.readTree(body);
    }

    @Override
    public void close() {
        node.close();
    }
}
