package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** Bodies longer than the edge reads into a pre-sized array arrive whole, in order, up to the limit. */
class LargeBodyTest extends EdgeHttpTest {
    private static final int LIMIT = 256 * 1024;

    @Override
    protected String config() {
        return TestEdge.BASIC_CONFIG.replace("maxRequestBytes: 65536", "maxRequestBytes: " + LIMIT);
    }

    @Test
    void aBodyOver64KiBWithItsLengthDeclaredIsStoredWhole() throws Exception {
        String pad = pad(100 * 1024, 1);
        HttpResponse<String> res = edge.send(post(HttpRequest.BodyPublishers.ofString(body("declared", pad))));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(202);
        assertStored("declared", pad);
    }

    @Test
    void aChunkedBodyOver64KiBIsStoredWhole() throws Exception {
        String pad = pad(150 * 1024, 2);
        HttpResponse<String> res = edge.send(post(chunked(body("chunked", pad))));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(202);
        assertStored("chunked", pad);
    }

    @Test
    void bodiesOverTheLimitAre413DeclaredOrNot() throws Exception {
        String big = body("big", pad(LIMIT, 3));
        assertProblem(edge.send(post(HttpRequest.BodyPublishers.ofString(big))));
        assertProblem(edge.send(post(chunked(big))));
        assertThat(edge.exported()).isEmpty();
    }

    private void assertStored(String id, String pad) throws Exception {
        assertThat(edge.exported()).singleElement().satisfies(e -> {
            assertThat(e.get("eventId").asText()).isEqualTo(id);
            assertThat(e.get("event").get("xdm").get("pad").asText()).isEqualTo(pad);
        });
    }

    private static void assertProblem(HttpResponse<String> res) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(413);
        assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0112-413");
    }

    /** Letters in no repeating order, so that a chunk copied to the wrong place shows. */
    private static String pad(int length, long seed) {
        Random random = new Random(seed);
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            s.append((char) ('a' + random.nextInt(26)));
        }
        return s.toString();
    }

    private static String body(String id, String pad) {
        return "{\"events\":[{\"xdm\":{\"_id\":\"" + id + "\",\"eventType\":\"test\",\"pad\":\"" + pad
                + "\",\"identityMap\":{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}}}]}";
    }

    private HttpRequest.Builder post(HttpRequest.BodyPublisher body) {
        return HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .version(HttpClient.Version.HTTP_1_1)
                .header("content-type", "application/json")
                .POST(body);
    }

    /** No declared length: HTTP/1.1 chunked transfer encoding. */
    private static HttpRequest.BodyPublisher chunked(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes));
    }
}
