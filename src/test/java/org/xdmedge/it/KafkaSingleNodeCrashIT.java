package org.xdmedge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.LoadClient;
import org.xdmedge.testing.TestEdge;

/**
 * One edge process on a Kafka dataset with no Redis (the dedup ledger in {@code dedup.sqlite}),
 * SIGKILLed under load three times and started again on the same data directory; its clients
 * retry what got no answer, with the same bodies. Every acknowledged {@code _id} is in the topic
 * exactly once (read_committed), and the retries are answered long before {@code pendingSeconds}
 * (300 s): the killed process's open claims are settled from the log, among them ids whose Kafka
 * commit went through before the kill.
 */
class KafkaSingleNodeCrashIT {
    private static final int ROUNDS = 3;
    private static final Duration RETRY_BOUND = Duration.ofSeconds(40);
    private static final Pattern SETTLED = Pattern.compile("settled (\\d+) ids held by a lapsed write from the log: (\\d+) were published");

    @TempDir
    Path dir;

    static String config(String bootstrap) {
        return """
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - { id: ds, orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg, dataset: web-events }
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka:
                      bootstrapServers: "%s"
                      topic: "single-node-crash"
                      responseTimeoutMs: 8000
                      retryAfterSeconds: 1
                      producer:
                        max.block.ms: 3000
                        request.timeout.ms: 3000
                        delivery.timeout.ms: 6000
                state: { dedup: { windowSeconds: 3600, pendingSeconds: 300 } }
                """.formatted(bootstrap);
    }

    @Test
    void everyAcknowledgedIdIsInTheTopicOnceAcrossSigkillsOfTheOnlyNode() throws Exception {
        Path data = dir.resolve("data");
        Set<String> acked = new HashSet<>();
        int settledIds = 0;
        int settledPublished = 0;
        ExecutorService retryThreads = Executors.newCachedThreadPool();
        try (KafkaTestCluster kafka = KafkaTestCluster.start()) {
            String config = config(kafka.bootstrapServers());
            List<LoadClient.Batch> toRetry = List.of();
            for (int round = 0; round <= ROUNDS; round++) {
                // Ids are marked stored 300 ms after Kafka's commit, so that kills land in that window too.
                EdgeProcess edge = EdgeProcess.start(dir.resolve("run-" + round), data, config,
                        List.of("-Dxdmedge.dedupConfirmDelayMillis=300"));
                long startedAt = System.nanoTime();
                try {
                    // The clients retry what got no answer before the kill, each on its own, with the same bodies.
                    LoadClient retries = new LoadClient(edge.baseUrl(), 5, "retry" + round);
                    Duration slowest = retries.retryUntilAcknowledged(toRetry, startedAt, RETRY_BOUND, retryThreads);
                    assertThat(slowest).as("slowest retry after restart %d, answered without waiting pendingSeconds (300 s)", round)
                            .isLessThan(RETRY_BOUND);
                    acked.addAll(retries.acknowledged());
                    System.out.printf("KafkaSingleNodeCrashIT restart %d: %d requests retried, the last answered %d ms after the start%n",
                            round, toRetry.size(), slowest.toMillis());
                    if (round == ROUNDS) {
                        break;
                    }

                    LoadClient load = new LoadClient(edge.baseUrl(), 5, "kill" + round);
                    load.start(6, 100_000);
                    load.awaitAccepted(150, 60);
                    edge.kill();
                    load.stop();
                    acked.addAll(load.acknowledged());
                    toRetry = load.unanswered();
                    assertThat(toRetry).as("requests cut off by the kill in round %d", round).isNotEmpty();
                } finally {
                    edge.close();
                }
                Matcher m = SETTLED.matcher(Files.readString(edge.log()));
                while (m.find()) {
                    settledIds += Integer.parseInt(m.group(1));
                    settledPublished += Integer.parseInt(m.group(2));
                }
            }

            Map<String, Integer> copies = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("single-node-crash")) {
                JsonNode line = TestEdge.json(new String(r.value(), StandardCharsets.UTF_8));
                copies.merge(line.get("eventId").asText(), 1, Integer::sum);
            }
            assertThat(acked).hasSizeGreaterThan(ROUNDS * 150 * 5 - 1);
            assertThat(acked).allSatisfy(id -> assertThat(copies.get(id)).as("copies of acknowledged " + id).isEqualTo(1));
            assertThat(copies.values()).as("no event published twice").allSatisfy(n -> assertThat(n).isEqualTo(1));
            // The retries found the killed process's claims open in dedup.sqlite and settled them from the log.
            assertThat(settledIds).as("ids settled from the log").isPositive();
            assertThat(settledPublished).as("ids found published (committed, not yet marked stored, at the kill)").isPositive();
            System.out.printf("KafkaSingleNodeCrashIT: %d acknowledged ids; %d settled from the log, %d of them found published%n",
                    acked.size(), settledIds, settledPublished);
        } finally {
            retryThreads.shutdownNow();
        }
    }
}
