package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** Every hostile or broken request gets its 4xx problem, never a 5xx, and stores nothing. */
class BadInputTest extends EdgeHttpTest {

    @Test
    void truncatedJson() throws Exception {
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{\"_id\":\"a\""), 400, "0101");
    }

    @Test
    void eventsNotAnArray() throws Exception {
        JsonNode p = assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":{\"xdm\":{}}}"), 400, "0102");
        assertThat(p.get("report").get("errors").get(0).get("path").asText()).isEqualTo("events");
    }

    @Test
    void eventsMissing() throws Exception {
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"event\":{\"xdm\":{}}}"), 400, "0103");
    }

    @Test
    void identityIdNotAString() throws Exception {
        JsonNode p = assertProblem(post("/ee/v2/collect?datastreamId=ds",
                "{\"events\":[{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":42,\"primary\":true}]}}}]}"), 400, "0102");
        assertThat(p.get("report").get("errors").get(0).get("path").asText()).isEqualTo("events[0].xdm.identityMap.CRMID[0].id");
    }

    @Test
    void everyBadFieldIsNamedInOneAnswer() throws Exception {
        JsonNode p = assertProblem(post("/ee/v2/collect?datastreamId=ds",
                "{\"events\":[{\"xdm\":{\"timestamp\":\"yesterday\",\"identityMap\":{\"CRMID\":[{\"id\":\"a\",\"primary\":\"maybe\"}]}}},"
                        + "{\"xdm\":[]}, 7]}"), 400, "0102");
        List<String> paths = new ArrayList<>();
        p.get("report").get("errors").forEach(e -> paths.add(e.get("path").asText()));
        assertThat(paths).containsExactlyInAnyOrder("events[0].xdm.identityMap.CRMID[0].primary", "events[0].xdm.timestamp",
                "events[1].xdm", "events[2]");
    }

    @Test
    void bodyOf200KilobytesIs413() throws Exception {
        String big = "{\"events\":[{\"xdm\":{\"pad\":\"" + "x".repeat(200 * 1024) + "\"}}]}";
        assertProblem(post("/ee/v2/collect?datastreamId=ds", big), 413, "0112");
    }

    @Test
    void contentTypesOtherThanJsonAndTextAre415AndTheirCaseDoesNotMatter() throws Exception {
        for (String type : new String[] {"application/xml", "text/html; charset=utf-8", "application/jsonx", ";"}) {
            JsonNode p = assertProblem(edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                    .header("content-type", type)
                    .POST(HttpRequest.BodyPublishers.ofString(CollectEndpointTest.event("typed", "u")))), 415, "0111");
            assertThat(p.get("detail").asText()).as(type).contains("is not supported");
        }
        for (String type : new String[] {"Application/JSON; charset=UTF-8", " text/plain ;charset=UTF-8", "TEXT/JAVASCRIPT"}) {
            HttpResponse<String> ok = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                    .header("content-type", type)
                    .POST(HttpRequest.BodyPublishers.ofString(CollectEndpointTest.event("typed-" + type.trim().charAt(0), "u"))));
            assertThat(ok.statusCode()).as(type + ": " + ok.body()).isEqualTo(202);
        }
        assertThat(edge.exported()).hasSize(3);
    }

    @Test
    void chunkedBodiesWithoutADeclaredLengthAreReadAndHeldToTheLimit() throws Exception {
        String big = "{\"events\":[{\"xdm\":{\"pad\":\"" + "x".repeat(200 * 1024) + "\"}}]}";
        assertProblem(edge.send(chunked(big)), 413, "0112");
        HttpResponse<String> ok = edge.send(chunked(CollectEndpointTest.event("chunked-1", "u")));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);
        assertThat(edge.exported()).extracting(e -> e.get("eventId").asText()).containsExactly("chunked-1");
    }

    /** A POST whose length the client does not declare: HTTP/1.1 chunked transfer encoding. */
    private HttpRequest.Builder chunked(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .version(HttpClient.Version.HTTP_1_1)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes)));
    }

    @Test
    void hugeDeclaredBodyIsRefusedWithoutReadingIt() throws Exception {
        byte[] body = new byte[3 * 1024 * 1024];
        HttpResponse<String> res;
        try {
            res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        } catch (IOException closed) {
            // The edge may close the connection before the client finished sending: that is a refusal too.
            assertThat(edge.exported()).isEmpty();
            return;
        }
        assertProblem(res, 413, "0112");
    }

    @Test
    void gzipBombIsStoppedAtTheLimit() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var gz = new GZIPOutputStream(bytes)) {
            gz.write("{\"events\":[{\"xdm\":{\"pad\":\"".getBytes(StandardCharsets.UTF_8));
            byte[] zeros = new byte[1 << 20];
            Arrays.fill(zeros, (byte) 'a');
            for (int i = 0; i < 50; i++) {
                gz.write(zeros);
            }
        }
        HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .header("content-type", "application/json").header("content-encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray())));
        assertProblem(res, 413, "0112");
    }

    @Test
    void brokenGzipIs400() throws Exception {
        HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .header("content-type", "application/json").header("content-encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofString("not gzip at all")));
        assertProblem(res, 400, "0101");
    }

    @Test
    void emptyBody() throws Exception {
        assertProblem(post("/ee/v2/collect?datastreamId=ds", ""), 408, "0109");
        assertProblem(post("/ee/v2/interact?datastreamId=ds", "  \n"), 408, "0109");
    }

    @Test
    void missingUnknownAndDisabledDatastreams() throws Exception {
        String body = CollectEndpointTest.event("e", "u");
        assertProblem(post("/ee/v2/collect", body), 400, "0002");
        JsonNode unknown = assertProblem(post("/ee/v2/collect?datastreamId=nope", body), 400, "0003");
        assertThat(unknown.get("title").asText()).isEqualTo("Invalid datastream ID");
        assertThat(unknown.get("detail").asText()).contains("'nope'");
        assertThat(unknown.get("report").get("configId").asText()).isEqualTo("nope");
        assertProblem(post("/ee/v2/collect?datastreamId=off", body), 422, "0004");
    }

    @Test
    void tenThousandDeepNesting() throws Exception {
        String deep = "{\"events\":[{\"xdm\":{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}}]}";
        assertProblem(post("/ee/v2/collect?datastreamId=ds", deep), 400, "0101");
        String deepObjects = "{\"event\":{\"xdm\":" + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000) + "}}";
        assertProblem(post("/ee/v2/interact?datastreamId=ds", deepObjects), 400, "0101");
    }

    @Test
    void invalidUtf8() throws Exception {
        byte[] prefix = "{\"events\":[{\"xdm\":{\"_id\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] suffix = "\",\"identityMap\":{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}}}]}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[prefix.length + 2 + suffix.length];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3;
        body[prefix.length + 1] = (byte) 0x28; // not a continuation byte
        System.arraycopy(suffix, 0, body, prefix.length + 2, suffix.length);
        HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        assertProblem(res, 400, "0101");
    }

    @Test
    void aNumberNoDecimalHoldsIsA400NamingItsFieldWhereverItStands() throws Exception {
        String huge = "1e99999999999999999999";
        String id = "{\"xdm\":{\"_id\":" + huge + "}}";
        assertField("/ee/v2/collect", "{\"events\":[" + id + "]}", "events[0].xdm._id");
        assertField("/ee/v2/interact", "{\"event\":" + id + "}", "event.xdm._id");
        assertField("/ee/v1/collect", "{\"events\":[" + id + "]}", "events[0].xdm._id");
        assertField("/ee/v1/interact", "{\"events\":[" + id + "]}", "events[0].xdm._id");
        // v1 with request-level xdm: the event's xdm is read whole, not lean
        assertField("/ee/v1/interact", "{\"xdm\":{\"web\":{}},\"events\":[{\"xdm\":{\"a\":1,\"b\":-" + huge + "}}]}",
                "events[0].xdm.b");
        assertField("/ee/v2/collect", "{\"events\":[{\"xdm\":{\"timestamp\":" + huge + "}}]}", "events[0].xdm.timestamp");
        assertField("/ee/v2/collect", "{\"events\":[{\"xdm\":{\"web\":{\"a\":[1,2.5e-99999999999999]}}}]}",
                "events[0].xdm.web.a[1]");
        assertField("/ee/v2/collect", "{\"events\":[{\"xdm\":{},\"data\":{\"n\":" + huge + "}}]}", "events[0].data.n");
        assertField("/ee/v2/collect", "{\"meta\":{\"n\":" + huge + "},\"events\":[{\"xdm\":{}}]}", "meta.n");

        // Nine exponent digits (leading zeros aside) make a number like any other: stored as sent.
        String body = "{\"events\":[{\"xdm\":{\"_id\":\"big-1\",\"n\":1e999999999,\"m\":1E-0000000000000000000007,"
                + "\"identityMap\":{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}}}]}";
        HttpResponse<String> ok = post("/ee/v2/collect?datastreamId=ds", body);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);
        assertThat(edge.exported()).hasSize(1);
        assertThat(edge.exported().get(0).toString()).contains("1E+999999999");
    }

    private void assertField(String path, String body, String field) throws Exception {
        JsonNode p = assertProblem(post(path + "?datastreamId=ds", body), 400, "0102");
        assertThat(p.get("report").get("errors").get(0).get("path").asText()).as(path + " " + body).isEqualTo(field);
    }

    @Test
    void interactSentAnEventsArray() throws Exception {
        JsonNode p = assertProblem(post("/ee/v2/interact?datastreamId=ds", CollectEndpointTest.event("e", "u")), 400, "0103");
        assertThat(p.get("detail").asText()).contains("exactly one 'event'");
    }

    @Test
    void bodyThatIsNotAnObject() throws Exception {
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "[1,2]"), 400, "0102");
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "\"text\""), 400, "0102");
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{} {}"), 400, "0101");
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[],\"events\":[]}"), 400, "0101");
    }

    @Test
    void duplicateKeysAtEveryLevel() throws Exception {
        String valid = "\"identityMap\":{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}";
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{" + valid + "},\"xdm\":{" + valid + "}}]}"), 400, "0101");
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{\"_id\":\"a\",\"_id\":\"b\"," + valid + "}}]}"), 400, "0101");
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{" + valid + ",\"web\":{\"x\":1,\"y\":2,\"x\":3}}}]}"), 400, "0101");
        assertProblem(post("/ee/v2/interact?datastreamId=ds", "{\"event\":{\"xdm\":{}},\"meta\":{},\"meta\":{}}"), 400, "0101");
        assertProblem(post("/ee/v2/interact?datastreamId=ds", "{\"event\":{\"xdm\":{},\"data\":{\"a\":[{\"k\":1,\"k\":1}]}}}"), 400, "0101");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void emptyEventsAndMissingXdm() throws Exception {
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[]}"), 400, "0102");
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"data\":{}}]}"), 400, "0103");
    }

    @Test
    void twoPrimaryIdentitiesInOneEvent() throws Exception {
        assertProblem(post("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{\"identityMap\":{"
                + "\"A\":[{\"id\":\"1\",\"primary\":true}],\"B\":[{\"id\":\"2\",\"primary\":true}]}}}]}"), 400, "0305");
    }

    @Test
    void wrongMethodAndUnknownPath() throws Exception {
        HttpResponse<String> get = edge.get("/ee/v2/collect?datastreamId=ds");
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("allow")).isPresent();
        assertProblem(post("/ee/v2/nothing?datastreamId=ds", "{}"), 404, "0404");
        assertProblem(post("/ee/va/v1/sessionStart?configId=ds", "{}"), 404, "0404");
    }

    @Test
    void unsupportedContentEncoding() throws Exception {
        HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .header("content-type", "application/json").header("content-encoding", "br")
                .POST(HttpRequest.BodyPublishers.ofString(CollectEndpointTest.event("e", "u"))));
        assertProblem(res, 415, "0111");
    }

    @Test
    void validClientsCarryOnWhileOthersSendGarbage() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> good = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> bad = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            good.add(edge.postJsonAsync("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("good-" + i, "u")));
            bad.add(edge.postJsonAsync("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":" + "[".repeat(i * 50)));
        }
        for (var f : good) {
            assertThat(f.get().statusCode()).isEqualTo(202);
        }
        for (var f : bad) {
            assertThat(f.get().statusCode()).isEqualTo(400);
        }
        assertThat(edge.exported()).hasSize(40);
    }

    @Test
    void requestsTheHttpLayerCannotDecodeStillGetProblems() throws Exception {
        String body = CollectEndpointTest.event("e", "u");
        assertThat(raw("POST /ee/v2/collect?datastreamId=%zz HTTP/1.1", body)).startsWith("HTTP/1.1 400").contains("EXEG-0102-400");
        assertThat(raw("POST /ee/%zz/v2/collect?datastreamId=ds HTTP/1.1", body)).startsWith("HTTP/1.1 400").contains("EXEG-0114-400");
        assertThat(raw("POST /ee/v2/collect%4 HTTP/1.1", body)).startsWith("HTTP/1.1 400").contains("EXEG-0114-400")
                .containsIgnoringCase("x-adobe-edge: ");
        assertThat(raw("GET /health/%41 HTTP/1.1", "")).as("a valid escape is not refused")
                .startsWith("HTTP/1.1 404").contains("EXEG-0404-404");
        assertThat(raw("GET /health/ HTTP/1.1", "")).startsWith("HTTP/1.1 200").contains("\"UP\"");
        assertThat(raw("POST /ee/v2/collect?datastreamId=" + "a".repeat(10_000) + " HTTP/1.1", body))
                .matches("(?s)HTTP/1.[01] 414.*").contains("EXEG-0115-414");
        assertThat(raw("POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\nx-big: " + "b".repeat(20_000), body))
                .matches("(?s)HTTP/1.[01] 431.*").contains("EXEG-0116-431");
        assertThat(edge.exported()).isEmpty();
    }

    /** Sends a hand-made HTTP/1.1 request (what a normal client refuses to produce) and reads the answer. */
    private String raw(String requestLine, String body) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", edge.port())) {
            socket.setSoTimeout(10_000);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            String head = requestLine + "\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: "
                    + bytes.length + "\r\nconnection: close\r\n\r\n";
            var out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(bytes);
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return edge.postJson(path, body);
    }

    private JsonNode assertProblem(HttpResponse<String> res, int status, String code) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(status);
        assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/problem+json"));
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.get("type").asText()).isEqualTo("https://ns.adobe.com/aep/errors/EXEG-" + code + "-" + status);
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("title").asText()).isNotBlank();
        assertThat(problem.get("detail").asText()).isNotBlank();
        assertThat(problem.get("report").get("requestId").asText()).isEqualTo(res.headers().firstValue("x-request-id").orElseThrow());
        assertThat(edge.exported()).as("nothing of a refused request is stored").isEmpty();
        return problem;
    }
}
