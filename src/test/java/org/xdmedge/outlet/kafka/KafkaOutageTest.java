package org.xdmedge.outlet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.collect;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.config;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.countByEventId;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.ids;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.RedisTestServer;
import org.xdmedge.testing.TestEdge;

/**
 * The broker goes away in the middle of a load on two nodes and comes back: clients get 503 with
 * Retry-After and retry (to either node); /ready turns 503 and back by itself; afterwards every
 * acknowledged event is in Kafka exactly once. Own cluster, since it stops the broker.
 */
class KafkaOutageTest {
    @TempDir
    static Path dir;
    static KafkaTestCluster kafka;
    static RedisTestServer redis;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisTestServer.start(dir.resolve("redis"));
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void brokerStopsMidLoadThenReturns_503sThenRecoveryNoLossNoDuplicates() throws Exception {
        String yaml = config(kafka.bootstrapServers(), "outage", redis.url());
        try (TestEdge a = TestEdge.start(yaml, dir.resolve("a"));
             TestEdge b = TestEdge.start(yaml, dir.resolve("b"))) {
            a.awaitReady(Duration.ofSeconds(60));
            b.awaitReady(Duration.ofSeconds(60));
            List<TestEdge> nodes = List.of(a, b);
            AtomicInteger acknowledgedRequests = new AtomicInteger();
            AtomicInteger unavailable = new AtomicInteger();
            ConcurrentLinkedQueue<String> acknowledged = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            int clients = 3;
            int requestsPerClient = 40;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);

            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                running.add(pool.submit(() -> {
                    for (int i = 0; i < requestsPerClient; i++) {
                        List<String> batch = ids("c" + client + "-" + i, 2);
                        String body = collect(batch);
                        // A well-behaved client: retries the same events until acknowledged, on any node.
                        for (int attempt = 0; ; attempt++) {
                            if (System.nanoTime() > deadline) {
                                problems.add("gave up on " + batch);
                                return null;
                            }
                            TestEdge node = nodes.get((client + i + attempt) % 2);
                            HttpResponse<String> res = node.postJson("/ee/v2/collect?datastreamId=ds", body);
                            if (res.statusCode() == 202) {
                                acknowledged.addAll(batch);
                                acknowledgedRequests.incrementAndGet();
                                break;
                            }
                            if (res.statusCode() != 503) {
                                problems.add("status " + res.statusCode() + ": " + res.body());
                                return null;
                            }
                            unavailable.incrementAndGet();
                            if (!res.headers().firstValue("retry-after").isPresent()
                                    || !TestEdge.json(res.body()).get("type").asText().endsWith("EXEG-0000-503")) {
                                problems.add("503 without Retry-After or EXEG-0000-503: " + res.headers().map() + " " + res.body());
                            }
                            Thread.sleep(200);
                        }
                        Thread.sleep(20);
                    }
                    return null;
                }));
            }

            waitUntil(() -> {
                assertThat(problems).as("clients hit a problem").isEmpty();
                return acknowledgedRequests.get() >= 15;
            }, deadline, "load did not get going");
            kafka.stopBroker();
            waitUntil(() -> unavailable.get() > 0, deadline, "no 503 while the broker is down");
            waitUntil(() -> a.get("/ready").statusCode() == 503 && b.get("/ready").statusCode() == 503, deadline,
                    "/ready stayed 200 while the broker is down");
            int acknowledgedWhileDown = acknowledgedRequests.get();
            Thread.sleep(2000);
            kafka.startBroker();
            waitUntil(() -> a.get("/ready").statusCode() == 200 && b.get("/ready").statusCode() == 200, deadline,
                    "the nodes did not recover by themselves");

            pool.shutdown();
            for (Future<?> f : running) {
                f.get(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())) + 30, TimeUnit.SECONDS);
            }
            assertThat(problems).isEmpty();
            assertThat(acknowledgedRequests.get()).isEqualTo(clients * requestsPerClient);
            assertThat(acknowledgedRequests.get()).isGreaterThan(acknowledgedWhileDown);
            assertThat(unavailable.get()).isPositive();

            Map<String, Integer> counts = countByEventId(kafka.readCommitted("outage"));
            assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(acknowledged);
            assertThat(counts.values()).containsOnly(1);
            assertThat(acknowledged).hasSize(clients * requestsPerClient * 2);
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitUntil(Check check, long deadlineNanos, String failure) throws Exception {
        while (!check.ok()) {
            if (System.nanoTime() > deadlineNanos) {
                throw new AssertionError(failure);
            }
            Thread.sleep(100);
        }
    }
}
