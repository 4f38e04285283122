package org.xdmedge.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestEdge;

/** Token buckets per organization and per datastream, seen from clients over HTTP. */
class RateLimitTest {
    static final String ORG = TestEdge.ORG;
    static final String ORG_SHARED = "5A5A5A5A5A5A5A5A5A5A5A5A@AdobeOrg";
    static final String BATCH = """
            {"events":[{"xdm":{"eventType":"t","identityMap":{"CRMID":[{"id":"u","primary":true}]}}}]}
            """;

    @TempDir
    static Path dir;
    static TestEdge edge;

    @BeforeAll
    static void start() throws Exception {
        edge = TestEdge.start("""
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: %s
                  - id: %s
                    rateLimit: { requestsPerSecond: 0.05, burst: 3 }
                datastreams:
                  - id: quick
                    orgId: %s
                    dataset: events
                    rateLimit: { requestsPerSecond: 2, burst: 2 }
                  - id: slow
                    orgId: %s
                    dataset: events
                    rateLimit: { requestsPerSecond: 0.05, burst: 4 }
                  - { id: free, orgId: %s, dataset: events }
                  - { id: streamed, orgId: %s, dataset: events, rateLimit: { requestsPerSecond: 1000, burst: 1000 } }
                  - { id: shared-1, orgId: %s, dataset: events }
                  - { id: shared-2, orgId: %s, dataset: events }
                """.formatted(ORG, ORG_SHARED, ORG, ORG, ORG, ORG, ORG_SHARED, ORG_SHARED), dir.resolve("data"));
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    static HttpResponse<String> collect(String datastream) throws Exception {
        return edge.postJson("/ee/v2/collect?datastreamId=" + datastream, BATCH);
    }

    @Test
    void limitReachedAnswers429WithRetryAfterThenRecovers() throws Exception {
        HttpResponse<String> limited = null;
        int served = 0;
        // Burst 2, two tokens a second: a client sending as fast as it can runs dry within a few calls.
        for (int i = 0; i < 50 && limited == null; i++) {
            HttpResponse<String> response = collect("quick");
            if (response.statusCode() == 429) {
                limited = response;
            } else {
                assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
                assertThat(response.headers().firstValue("x-rate-limit-remaining")).isPresent();
                served++;
            }
        }
        assertThat(limited).as("no 429 within 50 calls").isNotNull();
        assertThat(served).isGreaterThanOrEqualTo(2);
        assertThat(limited.headers().firstValue("retry-after")).isPresent();
        int retryAfter = Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow());
        assertThat(retryAfter).isBetween(1, 2);
        assertThat(limited.headers().firstValue("x-rate-limit-remaining")).hasValue("0");
        assertThat(limited.headers().firstValue("content-type").orElseThrow()).startsWith("application/problem+json");
        assertThat(TestEdge.json(limited.body()).path("type").asText()).endsWith("EXEG-0429-429");
        assertThat(TestEdge.json(limited.body()).path("status").asInt()).isEqualTo(429);

        // Recovers once the bucket refills; poll, bounded.
        HttpResponse<String> after = limited;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (after.statusCode() == 429 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            after = collect("quick");
        }
        assertThat(after.statusCode()).as(after.body()).isEqualTo(202);
    }

    @Test
    void theLimitHoldsHoweverManyConnectionsAClientOpens() throws Exception {
        int clients = 12;
        List<HttpClient> connections = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < clients; i++) {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            connections.add(client);
            calls.add(client.sendAsync(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=slow"))
                    .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(BATCH)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        int limited = 0;
        for (var call : calls) {
            int status = call.get().statusCode();
            if (status == 202) {
                ok++;
            } else if (status == 429) {
                limited++;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        // Burst 4 plus one token per 20 s: at most 4 (+ what trickled in meanwhile) across all connections.
        assertThat(ok + limited).isEqualTo(clients);
        assertThat(ok).isLessThanOrEqualTo(4 + (int) Math.ceil(seconds * 0.05)).isGreaterThanOrEqualTo(4);
    }

    @Test
    void aStreamedMobileAnswerKeepsItsFramingUnderALimit() throws Exception {
        HttpResponse<String> response = edge.postJson("/ee/v1/interact?configId=streamed",
                "{\"events\":[{\"xdm\":{}}],\"meta\":{\"konductorConfig\":{\"streaming\":"
                        + "{\"enabled\":true,\"recordSeparator\":\"\\u001e\",\"lineFeed\":\"\\n\"}}}}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).startsWith("\u001e");
        assertThat(response.headers().firstValue("x-rate-limit-remaining")).isPresent();
    }

    @Test
    void anOrganizationLimitIsSharedByItsDatastreams() throws Exception {
        assertThat(collect("shared-1").statusCode()).isEqualTo(202);
        assertThat(collect("shared-2").statusCode()).isEqualTo(202);
        assertThat(collect("shared-1").statusCode()).isEqualTo(202);
        HttpResponse<String> limited = collect("shared-2");
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(TestEdge.json(limited.body()).path("report").path("limit").asText()).isEqualTo("organization");
        assertThat(Integer.parseInt(limited.headers().firstValue("retry-after").orElseThrow())).isBetween(1, 20);
        // Other organizations are not affected.
        assertThat(collect("free").statusCode()).isEqualTo(202);
        assertThat(collect("free").headers().firstValue("x-rate-limit-remaining")).isEmpty();
    }
}
