package org.xdmedge.outlet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventIdLedger;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.state.SqliteEventIdLedger;
import org.xdmedge.testing.KafkaTestCluster;

/**
 * A single node (SQLite ledger, no Redis) that died with claims open: the next process on the same
 * data directory settles them from the topic on the first retry, without waiting. The real broker
 * in this JVM, the real ledger file and outlets; the dead process is played by a ledger left
 * unclosed and an outlet with the same transactional id. The pending time is 300 s, so nothing here
 * is settled by a timer.
 */
class RestartSettlementTest {
    private static final long PENDING_MILLIS = 300_000;
    @TempDir
    static Path shared;
    @TempDir
    Path dir;
    static KafkaTestCluster kafka;

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

    static KafkaEventSink outlet(String topic, String transactionalId) throws Exception {
        KafkaEventSink sink = new KafkaEventSink(new KafkaEventSink.Settings("web-events", kafka.bootstrapServers(), topic,
                Map.of("max.block.ms", 3000, "request.timeout.ms", 3000, "delivery.timeout.ms", 6000),
                transactionalId, 2, 100, 16, 8000, 1));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!sink.ready()) {
            assertThat(System.nanoTime()).as("outlet ready").isLessThan(deadline);
            Thread.sleep(50);
        }
        return sink;
    }

    static List<StoredEvent> events(String... ids) {
        List<StoredEvent> out = new ArrayList<>();
        for (String id : ids) {
            out.add(new StoredEvent("req-" + id, "ds", "web-events", System.currentTimeMillis(), id, "FPID", "f-" + id,
                    ("{\"xdm\":{\"_id\":\"" + id + "\"}}").getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    static List<String> keys(List<StoredEvent> events) {
        return events.stream().map(e -> e.datastreamId() + ":" + e.eventId()).toList();
    }

    @Test
    void theNextProcessSettlesWhatTheKilledOneLeftOpenOnTheFirstRetry(TestInfo info) throws Exception {
        String topic = "restart-" + info.getTestMethod().orElseThrow().getName();
        String transactionalId = topic + "-node";
        List<StoredEvent> committed = events("c-1", "c-2");
        List<StoredEvent> open = events("o-1", "o-2");
        List<StoredEvent> neverSent = events("n-1");

        // The process that dies: its claims reach dedup.sqlite, c-* reach Kafka, and it never confirms.
        SqliteEventIdLedger dead = new SqliteEventIdLedger(dir, 600_000, PENDING_MILLIS);
        KafkaEventSink deadOutlet = outlet(topic, transactionalId);
        assertThat(dead.claim(keys(committed), deadOutlet.writerTag())).containsOnly(EventIdLedger.Claim.CLAIMED);
        assertThat(dead.claim(keys(open), deadOutlet.writerTag())).containsOnly(EventIdLedger.Claim.CLAIMED);
        assertThat(dead.claim(keys(neverSent), deadOutlet.writerTag())).containsOnly(EventIdLedger.Claim.CLAIMED);
        assertThat(deadOutlet.write(committed).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(2, 0));
        deadOutlet.close(); // the zombie below stands in for its producer
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId + "-1");
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000);
        try (KafkaProducer<byte[], byte[]> zombie = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer())) {
            // Killed mid-transaction: o-1 sent, not committed.
            zombie.initTransactions();
            zombie.beginTransaction();
            StoredEvent e = open.get(0);
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, EventRecords.toBytes(e));
            r.headers().add("datastreamId", "ds".getBytes(StandardCharsets.UTF_8));
            r.headers().add("eventId", e.eventId().getBytes(StandardCharsets.UTF_8));
            zombie.send(r).get(10, TimeUnit.SECONDS);

            // The restart: same data directory, same transactional ids (the node id is kept there).
            SqliteEventIdLedger ledger = new SqliteEventIdLedger(dir, 600_000, PENDING_MILLIS);
            assertThat(ledger.leftOpen()).isEqualTo(5);
            KafkaEventSink outlet = outlet(topic, transactionalId);
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                DedupingSink sink = new DedupingSink(outlet, outlet, PENDING_MILLIS, ledger, pool, timer, 15_000, 1);
                long started = System.nanoTime();
                // Committed before the kill: acknowledged as duplicates, not published again.
                assertThat(sink.write(committed).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(0, 2));
                // In the open transaction, aborted when the new producers registered: published once now.
                assertThat(sink.write(open).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(2, 0));
                assertThat(sink.write(neverSent).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(1, 0));
                // At once, though the claims are seconds old and the settle age (10 s) has not passed.
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(DedupingSink.Settler.SETTLE_AFTER_MILLIS));
                assertThatThrownBy(zombie::commitTransaction).isInstanceOf(KafkaException.class);
                assertThat(ledger.leftOpen()).isZero();
                // Settled for good: retried again, everything is a duplicate.
                List<StoredEvent> all = new ArrayList<>(committed);
                all.addAll(open);
                all.addAll(neverSent);
                assertThat(sink.write(all).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(0, 5));
                // The new process's own producers were not fenced by the settle: they keep publishing.
                assertThat(outlet.failedTransactions()).isZero();
            } finally {
                outlet.close();
                ledger.close();
                dead.close();
                timer.shutdownNow();
                pool.shutdownNow();
            }
        }
        assertThat(KafkaTestSupport.countByEventId(kafka.readCommitted(topic)))
                .containsOnlyKeys("c-1", "c-2", "o-1", "o-2", "n-1").allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    }
}
