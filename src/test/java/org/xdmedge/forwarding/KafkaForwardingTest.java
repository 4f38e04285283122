package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.TestEdge;

/** A Kafka dataset forwarded through the destination's consumer group, across two nodes. */
class KafkaForwardingTest {
    private static KafkaTestCluster kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String config(String url) {
        return config(url, "forwarded-events");
    }

    private static String config(String url, String topic) {
        return """
                server: { region: or2, eventLoops: 1 }
                organizations:
                  - id: %s
                destinations:
                  - id: crm
                    url: %s
                    batch: { maxEvents: 5, maxDelayMs: 20 }
                    retry: { initialBackoffMs: 5, maxBackoffMs: 40, maxAttempts: 1000 }
                    timeoutMs: 2000
                forwarding: { pollMs: 50 }
                datastreams:
                  - id: ds
                    orgId: %s
                    dataset: web-events
                    forwardTo:
                      - { destination: crm, eventTypes: [commerce.purchases] }
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka:
                      bootstrapServers: "%s"
                      topic: %s
                      producer: { linger.ms: 2 }
                """.formatted(TestEdge.ORG, url, TestEdge.ORG, kafka.bootstrapServers(), topic);
    }

    @Test
    void twoNodesShareTheTopicAndTheSurvivorTakesOverWhenOneStops() throws Exception {
        try (FlakyReceiver receiver = new FlakyReceiver((n, ids) -> n % 4 == 0
                ? new FlakyReceiver.Answer(503, 0, "0") : FlakyReceiver.Answer.ok())) {
            String yaml = config(receiver.url());
            List<String> expected = new ArrayList<>();
            try (TestEdge a = TestEdge.start(yaml, dir.resolve("a")); TestEdge b = TestEdge.start(yaml, dir.resolve("b"))) {
                a.awaitReady(Duration.ofSeconds(60)); // the transactional producers are set up
                b.awaitReady(Duration.ofSeconds(60));
                for (int i = 0; i < 60; i++) {
                    TestEdge node = i % 2 == 0 ? a : b;
                    String type = i % 4 == 3 ? "web.webpagedetails.pageViews" : "commerce.purchases";
                    HttpResponse<String> res = node.postJson("/ee/v2/collect?datastreamId=ds",
                            ForwardingTest.event("k-" + i, type, ForwardingTest.ecid(i % 6)));
                    assertThat(res.statusCode()).as(res.body()).isEqualTo(202);
                    if (type.equals("commerce.purchases")) {
                        expected.add("k-" + i);
                    }
                }
                ForwardingTest.await(() -> receiver.deliveredOnce().containsAll(expected), Duration.ofSeconds(60),
                        "every purchase of both nodes delivered");
                long byA = a.node().forwarding().forwarders().get(0).delivered.get();
                long byB = b.node().forwarding().forwarders().get(0).delivered.get();
                assertThat(byA + byB).as("delivered by the group's members").isGreaterThanOrEqualTo(expected.size());
                a.close();
                // The survivor takes over every partition, including those the stopped node read.
                for (int i = 60; i < 80; i++) {
                    String id = "k-" + i;
                    assertThat(b.postJson("/ee/v2/collect?datastreamId=ds",
                            ForwardingTest.event(id, "commerce.purchases", ForwardingTest.ecid(i % 6))).statusCode())
                            .isEqualTo(202);
                    expected.add(id);
                }
                ForwardingTest.await(() -> receiver.deliveredOnce().containsAll(expected), Duration.ofSeconds(60),
                        "the survivor delivers what comes after");
            }
            assertThat(receiver.deliveredOnce()).as("only purchases").containsExactlyInAnyOrderElementsOf(expected);
            // Kafka keys records by visitor: each visitor's events arrive in the order they were collected.
            Map<String, List<String>> byVisitor = new HashMap<>();
            for (String id : receiver.deliveredOnce()) {
                int n = Integer.parseInt(id.substring(2));
                byVisitor.computeIfAbsent(ForwardingTest.ecid(n % 6), k -> new ArrayList<>()).add(id);
            }
            byVisitor.values().forEach(ids -> assertThat(ids).isSortedAccordingTo(
                    (x, y) -> Integer.compare(Integer.parseInt(x.substring(2)), Integer.parseInt(y.substring(2)))));
        }
    }

    @Test
    void theGroupsLagIsMeasuredUntilTheDestinationTakesTheRecords() throws Exception {
        AtomicBoolean up = new AtomicBoolean();
        try (FlakyReceiver receiver = new FlakyReceiver((n, ids) -> up.get()
                ? FlakyReceiver.Answer.ok() : new FlakyReceiver.Answer(503, 0, "0"));
             TestEdge edge = TestEdge.start(config(receiver.url(), "lagging-events"), dir.resolve("lag"))) {
            edge.awaitReady(Duration.ofSeconds(60));
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds",
                        ForwardingTest.event("l-" + i, "commerce.purchases", ForwardingTest.ecid(i % 3))).statusCode())
                        .isEqualTo(202);
                expected.add("l-" + i);
            }
            // The node holds the records of its last poll while the destination refuses them: at least one.
            ForwardingTest.await(() -> metric(edge, "xdmedge_forwarding_kafka_lag_events") >= 1
                    && metric(edge, "xdmedge_forwarding_kafka_lag_seconds") > 0,
                    Duration.ofSeconds(60), "the records the destination refuses count as lag");
            double age = metric(edge, "xdmedge_forwarding_kafka_lag_seconds");
            ForwardingTest.await(() -> metric(edge, "xdmedge_forwarding_kafka_lag_seconds") > age + 1,
                    Duration.ofSeconds(30), "the lag's age grows while the destination refuses");
            up.set(true);
            ForwardingTest.await(() -> receiver.deliveredOnce().containsAll(expected), Duration.ofSeconds(60),
                    "delivered once the destination is back");
            ForwardingTest.await(() -> metric(edge, "xdmedge_forwarding_kafka_lag_events") == 0
                    && metric(edge, "xdmedge_forwarding_kafka_lag_seconds") == 0, Duration.ofSeconds(60), "no lag left");
        }
    }

    /** {@code name}'s value for the destination crm in the edge's {@code /metrics}. */
    private static double metric(TestEdge edge, String name) {
        String body;
        try {
            body = edge.get("/metrics").body();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
        for (String line : body.split("\n")) {
            if (line.startsWith(name + "{") && line.contains("destination=\"crm\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no " + name + " in /metrics");
    }
}
