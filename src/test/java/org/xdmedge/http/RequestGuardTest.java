package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.testing.TestEdge;

/**
 * Every request is answered, over loopback against the real server: broken chunked framing and
 * unknown HTTP versions get their problems; a request that does not arrive in time gets 408;
 * connections beyond the cap are closed at once; HTTP/2 without TLS is off unless configured.
 */
class RequestGuardTest {
    @TempDir
    Path dir;

    static JsonNode problem(HttpResponse<String> res, int status, String code) throws IOException {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(status);
        assertThat(res.headers().firstValue("content-type")).hasValue(Problems.PROBLEM_JSON);
        assertThat(res.headers().firstValue("x-adobe-edge")).isPresent();
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.get("type").asText()).isEqualTo("https://ns.adobe.com/aep/errors/EXEG-" + code + "-" + status);
        assertThat(problem.get("report").get("requestId").asText()).isEqualTo(res.headers().firstValue("x-request-id").orElseThrow());
        return problem;
    }

    @Test
    void brokenChunkedFramingIsA400BeforeTheConnectionCloses() throws Exception {
        try (TestEdge edge = TestEdge.start(dir.resolve("data"))) {
            String head = "POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                    + "transfer-encoding: chunked\r\norigin: https://shop.example.test\r\n\r\n";
            for (String body : new String[] {"zz\r\n{}\r\n0\r\n\r\n", "3\r\n{\"eXX0\r\n\r\n", "3\r\n{\"ev\r\n0\r\n\r\n", "-1\r\n{}\r\n0\r\n\r\n"}) {
                Raw answer = raw(edge.port(), head + body, Duration.ofSeconds(10));
                assertThat(answer.status()).as(body).isEqualTo(400);
                assertThat(answer.closed()).as(body).isTrue();
                assertThat(answer.header("x-adobe-edge")).isNotNull();
                assertThat(answer.header("access-control-allow-origin")).isEqualTo("https://shop.example.test");
                JsonNode p = TestEdge.json(answer.body());
                assertThat(p.get("type").asText()).endsWith("EXEG-0114-400");
                assertThat(p.get("report").get("requestId").asText()).isEqualTo(answer.header("x-request-id"));
            }
            assertThat(edge.exported()).isEmpty();
        }
    }

    @Test
    void otherHttpVersionsAreA505Problem() throws Exception {
        try (TestEdge edge = TestEdge.start(dir.resolve("data"))) {
            for (String version : new String[] {"HTTP/3.0", "HTTP/2.5", "HTTP/1.2"}) {
                Raw answer = raw(edge.port(), "GET /health " + version + "\r\nhost: x\r\n\r\n", Duration.ofSeconds(10));
                assertThat(answer.status()).as(version).isEqualTo(505);
                assertThat(answer.closed()).isTrue();
                assertThat(answer.header("x-adobe-edge")).isNotNull();
                assertThat(TestEdge.json(answer.body()).get("type").asText()).endsWith("EXEG-0118-505");
            }
            // HTTP/2 with prior knowledge, while h2c is off
            Raw preface = raw(edge.port(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Duration.ofSeconds(10));
            assertThat(preface.status()).isEqualTo(505);
            assertThat(TestEdge.json(preface.body()).get("type").asText()).endsWith("EXEG-0118-505");
            Raw ok = raw(edge.port(), "GET /health HTTP/1.0\r\n\r\n", Duration.ofSeconds(10));
            assertThat(ok.status()).isEqualTo(200);
        }
    }

    @Test
    void aRequestNotReceivedWholeInTimeIsA408AndItsConnectionIsClosed() throws Exception {
        try (TestEdge edge = TestEdge.start("""
                server: { region: or2, eventLoops: 1, requestTimeoutSeconds: 1 }
                organizations:
                  - id: %s
                datastreams:
                  - { id: ds, orgId: %s, dataset: web-events }
                """.formatted(TestEdge.ORG, TestEdge.ORG), dir.resolve("data"))) {
            long started = System.nanoTime();
            try (Socket slow = new Socket("127.0.0.1", edge.port())) {
                slow.setSoTimeout(10_000);
                var out = slow.getOutputStream();
                out.write(("POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                        + "content-length: 400\r\n\r\n{\"events\":").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                // one byte every 200 ms: never idle, never whole
                for (int i = 0; i < 50 && slow.getInputStream().available() == 0; i++) {
                    Thread.sleep(200);
                    try {
                        out.write(' ');
                        out.flush();
                    } catch (IOException closed) {
                        break;
                    }
                }
                Raw answer = Raw.read(slow.getInputStream());
                long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
                assertThat(answer.status()).isEqualTo(408);
                assertThat(TestEdge.json(answer.body()).get("type").asText()).endsWith("EXEG-0117-408");
                assertThat(answer.header("connection")).isEqualTo("close");
                assertThat(answer.closed()).isTrue();
                assertThat(seconds).isLessThan(5);
            }

            // A head that never ends: the connection is closed, with nothing to answer.
            started = System.nanoTime();
            try (Socket slow = new Socket("127.0.0.1", edge.port())) {
                slow.setSoTimeout(10_000);
                var out = slow.getOutputStream();
                out.write("POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\nhost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < 50; i++) {
                    Thread.sleep(200);
                    try {
                        out.write('x');
                        out.flush();
                    } catch (IOException closed) {
                        break;
                    }
                }
                assertThat(slow.getInputStream().read()).isEqualTo(-1);
                assertThat(Duration.ofNanos(System.nanoTime() - started).toSeconds()).isLessThan(5);
            } catch (SocketException reset) {
                assertThat(Duration.ofNanos(System.nanoTime() - started).toSeconds()).isLessThan(5);
            }

            // Requests that arrive in time are untouched, also one after another on a kept-alive connection.
            try (Socket kept = new Socket("127.0.0.1", edge.port())) {
                for (int i = 0; i < 3; i++) {
                    String body = CollectEndpointTest.event("in-time-" + i, "u");
                    Raw answer = raw(kept, "POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\nhost: x\r\n"
                            + "content-type: application/json\r\ncontent-length: " + body.length() + "\r\n\r\n" + body);
                    assertThat(answer.status()).as(answer.body()).isEqualTo(202);
                    Thread.sleep(600);
                }
            }
            assertThat(edge.exported()).extracting(e -> e.get("eventId").asText())
                    .containsExactly("in-time-0", "in-time-1", "in-time-2");
            assertThat(edge.get("/metrics").body()).contains("xdmedge_connections_closed_total{reason=\"timeout\"} 1.0");
        }
    }

    @Test
    void connectionsBeyondTheCapAreClosedAtOnce() throws Exception {
        try (TestEdge edge = TestEdge.start("""
                server: { region: or2, eventLoops: 2, maxConnections: 3 }
                organizations:
                  - id: %s
                datastreams:
                  - { id: ds, orgId: %s, dataset: web-events }
                """.formatted(TestEdge.ORG, TestEdge.ORG), dir.resolve("data"))) {
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket s = new Socket("127.0.0.1", edge.port());
                    held.add(s);
                    assertThat(raw(s, "GET /health HTTP/1.1\r\nhost: x\r\n\r\n").status()).isEqualTo(200);
                }
                long started = System.nanoTime();
                try (Socket extra = new Socket("127.0.0.1", edge.port())) {
                    extra.setSoTimeout(5_000);
                    try {
                        extra.getOutputStream().write("GET /health HTTP/1.1\r\nhost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        assertThat(extra.getInputStream().read()).isEqualTo(-1);
                    } catch (SocketException reset) {
                        // closed before the request was written: refused all the same
                    }
                }
                assertThat(Duration.ofNanos(System.nanoTime() - started).toMillis()).isLessThan(2_000);
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
            // Closed connections free their places.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            String metrics = "";
            while (System.nanoTime() < deadline) {
                try (Socket s = new Socket("127.0.0.1", edge.port())) {
                    s.setSoTimeout(5_000);
                    Raw answer = raw(s, "GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
                    metrics = answer.body();
                    if (metrics.contains("xdmedge_connections_open 1.0")) {
                        break; // the held ones are counted closed once the edge has seen them close
                    }
                } catch (IOException refused) {
                    // a held connection not yet seen closed: refused like any over the cap
                }
                Thread.sleep(50);
            }
            assertThat(metrics).containsPattern("xdmedge_connections_closed_total\\{reason=\"limit\"} [1-9]")
                    .contains("xdmedge_connections_open 1.0");
        }
    }

    @Test
    void http2WithoutTlsOnlyWhenConfigured() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(5)).build();
        try (TestEdge edge = TestEdge.start(dir.resolve("off"))) {
            HttpResponse<String> res = h2.send(HttpRequest.newBuilder(edge.uri("/health")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        }
        try (TestEdge edge = TestEdge.start("""
                server: { region: or2, eventLoops: 1, http2Cleartext: true }
                organizations:
                  - id: %s
                datastreams:
                  - { id: ds, orgId: %s, dataset: web-events }
                """.formatted(TestEdge.ORG, TestEdge.ORG), dir.resolve("on"))) {
            HttpResponse<String> res = h2.send(HttpRequest.newBuilder(edge.uri("/health")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.version()).isEqualTo(HttpClient.Version.HTTP_2);
            HttpResponse<String> stored = h2.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                    .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(CollectEndpointTest.event("over-h2", "u"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(stored.statusCode()).as(stored.body()).isEqualTo(202);
            assertThat(stored.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(edge.exported()).extracting(e -> e.get("eventId").asText()).containsExactly("over-h2");
        }
    }

    @Test
    void theBoundsAreCheckedAtStartUp() throws Exception {
        ConfigLoader loader = new ConfigLoader();
        assertThatThrownBy(() -> loader.parse("server: { http2Cleartext: maybe }\n", "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("http2Cleartext");
        assertThatThrownBy(() -> loader.parse("server: { requestTimeoutSeconds: 0 }\n", "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("server.requestTimeoutSeconds");
        assertThatThrownBy(() -> loader.parse("server: { maxConnections: 0 }\n", "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("server.maxConnections");
        var server = loader.parse("server: { region: or2 }\n", "test").server();
        assertThat(server.requestTimeoutSeconds()).isEqualTo(30);
        assertThat(server.maxConnections()).isEqualTo(10_000);
        assertThat(server.http2Cleartext()).isFalse();
    }

    /** A raw HTTP/1.x answer: status, headers (lower-case names), body, and whether the edge closed. */
    record Raw(int status, Map<String, String> headers, String body, boolean closed) {
        String header(String name) {
            return headers.get(name);
        }

        /** Reads one answer, then waits (bounded by the socket's timeout) to see whether the connection closes. */
        static Raw read(InputStream in) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int headEnd = -1;
            while (headEnd < 0) {
                int b = in.read();
                if (b < 0) {
                    return new Raw(0, Map.of(), bytes.toString(StandardCharsets.UTF_8), true);
                }
                bytes.write(b);
                String s = bytes.toString(StandardCharsets.ISO_8859_1);
                if (s.endsWith("\r\n\r\n")) {
                    headEnd = s.length();
                }
            }
            String[] lines = bytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            int status = Integer.parseInt(lines[0].split(" ")[1]);
            Map<String, String> headers = new HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
                }
            }
            int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
            byte[] body = in.readNBytes(length);
            boolean closed;
            try {
                closed = in.read() < 0;
            } catch (SocketTimeoutException open) {
                closed = false;
            } catch (SocketException reset) {
                closed = true;
            }
            return new Raw(status, headers, new String(body, StandardCharsets.UTF_8), closed);
        }
    }

    static Raw raw(int port, String request, Duration timeout) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) timeout.toMillis());
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return Raw.read(s.getInputStream());
        }
    }

    /** One request on an open connection, its answer read; the connection stays open unless the edge closes it. */
    static Raw raw(Socket s, String request) throws IOException {
        s.setSoTimeout(300);
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
        s.setSoTimeout(5_000);
        InputStream in = s.getInputStream();
        // read the answer without waiting for a close on a kept-alive connection
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while (!bytes.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before an answer");
            }
            bytes.write(b);
        }
        String[] lines = bytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
        return new Raw(status, headers, new String(body, StandardCharsets.UTF_8), false);
    }
}
