package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestEdge;

/** CORS and {@code x-adobe-edge} on every answer a browser can get, over real HTTP. */
class BrowserTransportTest {
    private static final String ORIGIN = "https://www.shop.test";
    private static final String EVENT = "{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"}}],"
            + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}";

    @TempDir
    static Path dir;
    static TestEdge edge;

    @BeforeAll
    static void start() throws Exception {
        edge = TestEdge.start(dir);
    }

    @AfterAll
    static void stop() {
        edge.close();
    }

    private HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(edge.uri(path)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return edge.send(b);
    }

    private static void assertCors(HttpResponse<String> res, String origin) {
        assertThat(res.headers().firstValue("access-control-allow-origin")).contains(origin);
        assertThat(res.headers().firstValue("access-control-allow-credentials")).contains("true");
        assertThat(res.headers().allValues("vary")).anySatisfy(v -> assertThat(v).containsIgnoringCase("origin"));
        assertThat(res.headers().firstValue("access-control-expose-headers").orElse(""))
                .contains("x-adobe-edge").contains("x-request-id").contains("retry-after").contains("x-rate-limit-remaining");
        assertThat(res.headers().firstValue("x-adobe-edge")).contains("OR2;9");
    }

    @Test
    void textPlainInteractFromABrowserIsAnsweredWithCorsAndRegion() throws Exception {
        HttpResponse<String> res = call("POST", "/ee/v1/interact?configId=ds", EVENT,
                "content-type", "text/plain; charset=UTF-8", "origin", ORIGIN);
        assertThat(res.statusCode()).isEqualTo(200);
        assertCors(res, ORIGIN);
        assertThat(TestEdge.json(res.body()).get("handle").isArray()).isTrue();
    }

    @Test
    void errorsCarryCorsSoTheSdkCanReadThem() throws Exception {
        HttpResponse<String> unknownDatastream = call("POST", "/ee/v1/interact?configId=nope", EVENT,
                "content-type", "text/plain", "origin", ORIGIN);
        assertThat(unknownDatastream.statusCode()).isEqualTo(400);
        assertCors(unknownDatastream, ORIGIN);
        assertThat(unknownDatastream.body()).contains("EXEG-0003-400");

        HttpResponse<String> badJson = call("POST", "/ee/v1/interact?configId=ds", "{nope",
                "content-type", "text/plain", "origin", ORIGIN);
        assertThat(badJson.statusCode()).isEqualTo(400);
        assertCors(badJson, ORIGIN);

        HttpResponse<String> wrongType = call("POST", "/ee/v1/interact?configId=ds", EVENT,
                "content-type", "image/png", "origin", ORIGIN);
        assertThat(wrongType.statusCode()).isEqualTo(415);
        assertCors(wrongType, ORIGIN);

        HttpResponse<String> wrongMethod = call("GET", "/ee/v1/interact?configId=ds", null, "origin", ORIGIN);
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertCors(wrongMethod, ORIGIN);
    }

    @Test
    void notFoundAnswersCarryCors() throws Exception {
        HttpResponse<String> noRoute = call("POST", "/nothing/here", "{}", "content-type", "text/plain", "origin", ORIGIN);
        assertThat(noRoute.statusCode()).isEqualTo(404);
        assertCors(noRoute, ORIGIN);

        HttpResponse<String> unknownHint = call("POST", "/ee/zz9/v1/interact?configId=ds", EVENT,
                "content-type", "text/plain", "origin", ORIGIN);
        assertThat(unknownHint.statusCode()).isEqualTo(404);
        assertThat(unknownHint.body()).isEmpty();
        assertCors(unknownHint, ORIGIN);
    }

    @Test
    void refusalsMadeBeforeRoutingCarryTheEdgeHeaders() throws Exception {
        String answer;
        try (Socket socket = new Socket("127.0.0.1", edge.port())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(("GET /ee/v1/interact?pad=" + "a".repeat(9000) + " HTTP/1.1\r\nHost: edge.test\r\n"
                    + "Origin: " + ORIGIN + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(answer).matches("(?s)HTTP/1.[01] 414.*").contains("EXEG-0115-414");
        // The decoder gave up before reading the headers, so there is no Origin to echo, but the
        // answer is still the edge's.
        assertThat(answer.toLowerCase(Locale.ROOT)).contains("x-adobe-edge: or2;9").contains("vary: origin");
    }

    @Test
    void opsEndpointsCarryCors() throws Exception {
        for (String path : new String[] {"/health", "/ready", "/metrics"}) {
            HttpResponse<String> res = call("GET", path, null, "origin", "http://localhost:3000");
            assertThat(res.statusCode()).as(path).isEqualTo(200);
            assertCors(res, "http://localhost:3000");
        }
    }

    @Test
    void preflightEchoesOriginAndRequestedHeaders() throws Exception {
        int storedBefore = edge.exported().size();
        HttpResponse<String> res = call("OPTIONS", "/ee/v1/interact?configId=ds", null, "origin", ORIGIN,
                "access-control-request-method", "POST",
                "access-control-request-headers", "content-type,x-request-id,x-custom-thing");
        assertThat(res.statusCode()).isIn(200, 204);
        assertCors(res, ORIGIN);
        assertThat(res.headers().firstValue("access-control-allow-methods").orElse("")).contains("POST");
        assertThat(res.headers().firstValue("access-control-allow-headers")).contains("content-type,x-request-id,x-custom-thing");
        assertThat(res.headers().firstValue("access-control-max-age").orElse("0")).matches("[1-9][0-9]*");
        assertThat(edge.exported()).hasSize(storedBefore);

        HttpResponse<String> pna = call("OPTIONS", "/ee/or2/v1/collect?configId=ds", null, "origin", ORIGIN,
                "access-control-request-method", "POST", "access-control-request-private-network", "true");
        assertThat(pna.statusCode()).isIn(200, 204);
        assertThat(pna.headers().firstValue("access-control-allow-private-network")).contains("true");
        assertThat(pna.headers().firstValue("access-control-allow-headers").orElse("")).contains("content-type");
    }

    @Test
    void preflightRefusesToEchoHeaderListsThatAreNotTokens() throws Exception {
        HttpResponse<String> res = call("OPTIONS", "/ee/v1/interact", null, "origin", ORIGIN,
                "access-control-request-method", "POST", "access-control-request-headers", "content-type, x\"evil");
        assertThat(res.headers().firstValue("access-control-allow-headers").orElse("")).doesNotContain("evil");
    }

    @Test
    void noOriginMeansNoAllowOriginButStillRegionAndVary() throws Exception {
        HttpResponse<String> res = call("POST", "/ee/v1/interact?configId=ds", EVENT, "content-type", "application/json");
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("access-control-allow-origin")).isEmpty();
        assertThat(res.headers().allValues("vary")).anySatisfy(v -> assertThat(v).containsIgnoringCase("origin"));
        assertThat(res.headers().firstValue("x-adobe-edge")).contains("OR2;9");
    }

    @Test
    void neverAWildcardAndNeverTheOpaqueNullOrigin() throws Exception {
        HttpResponse<String> opaque = call("POST", "/ee/v1/interact?configId=ds", EVENT, "content-type", "text/plain",
                "origin", "null");
        assertThat(opaque.headers().firstValue("access-control-allow-origin")).isEmpty();
        HttpResponse<String> other = call("GET", "/health", null, "origin", "https://elsewhere.example");
        assertThat(other.headers().firstValue("access-control-allow-origin")).contains("https://elsewhere.example");
        assertThat(other.headers().allValues("access-control-allow-origin")).doesNotContain("*");
    }
}
