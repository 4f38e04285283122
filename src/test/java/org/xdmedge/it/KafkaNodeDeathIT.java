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
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.LoadClient;
import org.xdmedge.testing.RedisTestServer;
import org.xdmedge.testing.TestEdge;

/**
 * Two edge processes on one Kafka dataset sharing Redis; in each of three rounds one is SIGKILLed
 * under load and its clients retry what got no answer on the survivor, with the same bodies. Every
 * acknowledged {@code _id} is in the topic exactly once (read_committed), and each retry is
 * answered long before {@code pendingSeconds} (300 s): the killed node's open claims are settled
 * from the log.
 */
class KafkaNodeDeathIT {
    private static final int ROUNDS = 3;
    private static final Duration RETRY_BOUND = Duration.ofSeconds(45);
    private static final Pattern SETTLED = Pattern.compile("settled (\\d+) ids held by a lapsed write from the log: (\\d+) were published");

    @TempDir
    Path dir;

    static String config(String bootstrap, String redisUrl) {
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
                      topic: "node-death"
                      responseTimeoutMs: 8000
                      retryAfterSeconds: 1
                      producer:
                        max.block.ms: 3000
                        request.timeout.ms: 3000
                        delivery.timeout.ms: 6000
                state: { redis: { url: "%s" }, dedup: { windowSeconds: 3600, pendingSeconds: 300 } }
                """.formatted(bootstrap, redisUrl);
    }

    @Test
    void everyAcknowledgedIdIsInTheTopicOnceAcrossSigkillsAndRetriesAreSettledFromTheLog() throws Exception {
        try (RedisTestServer redis = RedisTestServer.start(dir.resolve("redis"));
             KafkaTestCluster kafka = KafkaTestCluster.start()) {
            String config = config(kafka.bootstrapServers(), redis.url());
            EdgeProcess[] nodes = {
                    EdgeProcess.start(dir.resolve("a-0"), dir.resolve("data-a"), config),
                    EdgeProcess.start(dir.resolve("b-0"), dir.resolve("data-b"), config)};
            Set<String> acked = new HashSet<>();
            int settledIds = 0;
            int settledPublished = 0;
            var retryThreads = Executors.newCachedThreadPool();
            try {
                for (int round = 0; round < ROUNDS; round++) {
                    int victim = round % 2;
                    EdgeProcess dying = nodes[victim];
                    EdgeProcess survivor = nodes[1 - victim];
                    LoadClient onDying = new LoadClient(dying.baseUrl(), 5, "kill" + round);
                    LoadClient onSurvivor = new LoadClient(survivor.baseUrl(), 5, "live" + round);
                    LoadClient retries = new LoadClient(survivor.baseUrl(), 5, "retry" + round);
                    onSurvivor.start(2, 100_000);
                    onDying.start(6, 100_000);
                    onDying.awaitAccepted(150, 60);
                    dying.kill();
                    long killedAt = System.nanoTime();
                    onDying.stop();
                    onSurvivor.stop();
                    List<LoadClient.Batch> unanswered = onDying.unanswered();
                    assertThat(unanswered).as("requests cut off by the kill in round %d", round).isNotEmpty();

                    // The clients retry on the survivor, each on its own, with the same bodies, until acknowledged.
                    Duration slowest = retries.retryUntilAcknowledged(unanswered, killedAt, RETRY_BOUND, retryThreads);
                    assertThat(slowest).as("slowest retry in round %d, answered without waiting pendingSeconds (300 s)", round)
                            .isLessThan(RETRY_BOUND);
                    System.out.printf("KafkaNodeDeathIT round %d: %d requests retried, the last answered %d ms after the kill%n",
                            round, unanswered.size(), slowest.toMillis());
                    acked.addAll(onDying.acknowledged());
                    acked.addAll(onSurvivor.acknowledged());
                    acked.addAll(retries.acknowledged());

                    Matcher m = SETTLED.matcher(Files.readString(survivor.log()));
                    while (m.find()) {
                        settledIds += Integer.parseInt(m.group(1));
                        settledPublished += Integer.parseInt(m.group(2));
                    }
                    // The killed node comes back on its data directory (same node id) for the next round.
                    dying.close();
                    if (round == ROUNDS - 1) {
                        break;
                    }
                    nodes[victim] = EdgeProcess.start(dir.resolve((victim == 0 ? "a-" : "b-") + (round + 1)),
                            dir.resolve(victim == 0 ? "data-a" : "data-b"), config);
                }
            } finally {
                retryThreads.shutdownNow();
                for (EdgeProcess node : nodes) {
                    node.close();
                }
            }

            Map<String, Integer> copies = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("node-death")) {
                JsonNode line = TestEdge.json(new String(r.value(), StandardCharsets.UTF_8));
                copies.merge(line.get("eventId").asText(), 1, Integer::sum);
            }
            assertThat(acked).hasSizeGreaterThan(ROUNDS * 150 * 5 - 1);
            assertThat(acked).allSatisfy(id -> assertThat(copies.get(id)).as("copies of acknowledged " + id).isEqualTo(1));
            assertThat(copies.values()).as("no event published twice").allSatisfy(n -> assertThat(n).isEqualTo(1));
            // The retries found the killed nodes' claims open and settled them from the log.
            assertThat(settledIds).as("ids settled from the log").isPositive();
            System.out.printf("KafkaNodeDeathIT: %d acknowledged ids; %d settled from the log, %d of them found published%n",
                    acked.size(), settledIds, settledPublished);
        }
    }
}
