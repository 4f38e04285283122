package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.LoadClient;
import org.xdmedge.testing.TestEdge;

/**
 * More concurrent requests than the writer queue holds: the surplus is refused with 503
 * EXEG-0000-503 and Retry-After, nothing else goes wrong, and every acknowledged event is stored
 * exactly once while nothing refused is.
 */
class BackPressureTest {
    @TempDir
    Path dir;

    @Test
    void aFullWriterQueueAnswers503WithRetryAfterAndStoresExactlyWhatItAcknowledged() throws Exception {
        String yaml = TestEdge.BASIC_CONFIG + "storage: { queueCapacity: 2, maxRequestsPerCommit: 1, retryAfterSeconds: 3 }\n";
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        Set<String> acked = new HashSet<>();
        Set<String> refused = new HashSet<>();
        JsonNode refusal = null;
        String retryAfter = null;
        try (TestEdge edge = TestEdge.start(yaml, dir)) {
            LoadClient bodies = new LoadClient("unused", 5, "bp");
            // Bounded: rounds of 150 simultaneous requests until the queue has overflowed at least once.
            for (int round = 0; round < 10 && refusal == null; round++) {
                List<LoadClient.Batch> batches = new ArrayList<>();
                List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < 150; i++) {
                    LoadClient.Batch batch = bodies.batch("r" + round + "-" + i);
                    batches.add(batch);
                    answers.add(client.sendAsync(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                            .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(batch.body())).build(), HttpResponse.BodyHandlers.ofString()));
                }
                for (int i = 0; i < answers.size(); i++) {
                    HttpResponse<String> res = answers.get(i).get(90, TimeUnit.SECONDS);
                    assertThat(res.statusCode()).as(res.body()).isIn(202, 503);
                    if (res.statusCode() == 202) {
                        acked.addAll(batches.get(i).ids());
                    } else {
                        refused.addAll(batches.get(i).ids());
                        refusal = TestEdge.json(res.body());
                        retryAfter = res.headers().firstValue("retry-after").orElse(null);
                        assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).contains("problem+json"));
                    }
                }
            }
            assertThat(refusal).as("150 simultaneous requests never overflowed a queue of 2").isNotNull();
            assertThat(refusal.get("type").asText()).contains("EXEG-0000-503");
            assertThat(refusal.get("status").asInt()).isEqualTo(503);
            assertThat(retryAfter).isEqualTo("3");
            assertThat(acked).isNotEmpty();

            Map<String, Integer> stored = new HashMap<>();
            for (JsonNode line : edge.exported()) {
                stored.merge(line.get("eventId").asText(), 1, Integer::sum);
            }
            assertThat(acked).allSatisfy(id -> assertThat(stored.get(id)).as("copies of " + id).isEqualTo(1));
            assertThat(stored.keySet()).doesNotContainAnyElementsOf(refused);
            assertThat(stored).hasSize(acked.size());
        }
    }
}
