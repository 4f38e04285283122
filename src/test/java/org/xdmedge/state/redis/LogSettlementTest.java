package org.xdmedge.state.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventIdLedger;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.outlet.kafka.KafkaEventSink;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.RedisTestServer;
import org.xdmedge.testing.TestEdge;
import redis.clients.jedis.params.SetParams;

/**
 * Settling a claim that a writer left open, from the Kafka log: the real broker in this JVM, a real
 * redis-server, the real ledger and outlets. The dead writer's claims are written as it would
 * have left them, dated past the settle age, so no test waits; the pending time is 300 s, so
 * nothing here is settled by a timer.
 */
class LogSettlementTest {
    private static final long PENDING_MILLIS = 300_000;
    @TempDir
    static Path dir;
    static KafkaTestCluster kafka;
    static RedisTestServer redisServer;
    RedisState redis;
    RedisEventIdLedger ledger;
    KafkaEventSink deadWriter;
    KafkaEventSink survivor;
    DedupingSink dedup;
    ScheduledExecutorService timer;
    ExecutorService pool;
    String topic;

    @BeforeAll
    static void start() throws Exception {
        redisServer = RedisTestServer.start(dir.resolve("redis"));
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (redisServer != null) {
            redisServer.close();
        }
    }

    static KafkaEventSink outlet(String topic, String transactionalId) throws Exception {
        KafkaEventSink sink = new KafkaEventSink(new KafkaEventSink.Settings("web-events", kafka.bootstrapServers(), topic,
                Map.of("max.block.ms", 3000, "request.timeout.ms", 3000, "delivery.timeout.ms", 6000),
                transactionalId, 1, 100, 16, 8000, 1));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!sink.ready()) {
            assertThat(System.nanoTime()).as("outlet ready").isLessThan(deadline);
            Thread.sleep(50);
        }
        return sink;
    }

    @BeforeEach
    void open(TestInfo info) throws Exception {
        topic = "settle-" + info.getTestMethod().orElseThrow().getName();
        redis = new RedisState(redisServer.url(), 2000, topic + ":");
        ledger = new RedisEventIdLedger(redis, 600_000, PENDING_MILLIS);
        deadWriter = outlet(topic, topic + "-dead");
        survivor = outlet(topic, topic + "-survivor");
        timer = Executors.newSingleThreadScheduledExecutor();
        pool = Executors.newFixedThreadPool(4);
        dedup = new DedupingSink(survivor, survivor, PENDING_MILLIS, ledger, pool, timer, 15_000, 1);
    }

    @AfterEach
    void close() {
        survivor.close();
        deadWriter.close();
        ledger.close();
        redis.close();
        timer.shutdownNow();
        pool.shutdownNow();
    }

    static List<StoredEvent> events(String... ids) {
        List<StoredEvent> out = new ArrayList<>();
        for (String id : ids) {
            out.add(new StoredEvent("req-" + id, "ds", "web-events", System.currentTimeMillis(), id, "FPID", "f-" + id,
                    ("{\"xdm\":{\"_id\":\"" + id + "\"}}").getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** A claim as a process that died (no lease) left it, {@code ageMillis} old, for the dead writer's outlet. */
    void claimAsDeadProcess(List<StoredEvent> events, String owner, long ageMillis) {
        String value = "P:" + owner + ":" + (System.currentTimeMillis() - ageMillis) + ":" + deadWriter.writerTag();
        for (StoredEvent e : events) {
            redis.jedis().set(redis.key("dedup", "ds:" + e.eventId()), value, SetParams.setParams().px(600_000));
        }
    }

    Map<String, Integer> published() throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted(topic)) {
            JsonNode line = TestEdge.json(new String(r.value(), StandardCharsets.UTF_8));
            counts.merge(line.get("eventId").asText(), 1, Integer::sum);
        }
        return counts;
    }

    WriteResult retry(List<StoredEvent> events) throws Exception {
        return dedup.write(events).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @Test
    void idsTheDeadWriterCommittedAreSettledAsStoredAndNotPublishedAgain() throws Exception {
        List<StoredEvent> events = events("c-1", "c-2");
        // The writer committed, then died before marking the ids stored.
        assertThat(deadWriter.write(events).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(2, 0));
        claimAsDeadProcess(events, "gone", DedupingSink.Settler.SETTLE_AFTER_MILLIS + 1000);

        long started = System.nanoTime();
        assertThat(retry(events)).isEqualTo(new WriteResult(0, 2));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
        assertThat(published()).containsOnlyKeys("c-1", "c-2").allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
        // Settled for good: the next retry is a duplicate at once, whichever node.
        assertThat(redis.jedis().get(redis.key("dedup", "ds:c-1"))).isEqualTo("D");
        assertThat(retry(events)).isEqualTo(new WriteResult(0, 2));
    }

    @Test
    void idsTheDeadWriterNeverCommittedAreFreedAndPublishedOnceEvenIfItsTransactionWasOpen() throws Exception {
        List<StoredEvent> events = events("a-1", "a-2");
        claimAsDeadProcess(events, "gone", DedupingSink.Settler.SETTLE_AFTER_MILLIS + 1000);
        // A zombie of the dead writer: its transaction holds a-1, sent but not committed.
        Map<String, Object> c = new HashMap<>();
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, topic + "-dead-0");
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000);
        deadWriter.close(); // the zombie stands in for its producer
        try (KafkaProducer<byte[], byte[]> zombie = new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer())) {
            zombie.initTransactions();
            zombie.beginTransaction();
            StoredEvent e = events.get(0);
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, EventRecords.toBytes(e));
            r.headers().add("datastreamId", "ds".getBytes(StandardCharsets.UTF_8));
            r.headers().add("eventId", e.eventId().getBytes(StandardCharsets.UTF_8));
            zombie.send(r).get(10, TimeUnit.SECONDS);

            assertThat(retry(events)).isEqualTo(new WriteResult(2, 0));
            // The settle fenced it: the zombie's commit can no longer land.
            assertThatThrownBy(zombie::commitTransaction).isInstanceOf(KafkaException.class);
        }
        assertThat(published()).containsOnlyKeys("a-1", "a-2").allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
        assertThat(redis.jedis().get(redis.key("dedup", "ds:a-1"))).isEqualTo("D");
    }

    @Test
    void aClaimOfALiveWriterOrAYoungOneIsNotSettledYet() throws Exception {
        List<StoredEvent> young = events("y-1");
        claimAsDeadProcess(young, "gone", 1000);
        assertThat(failure(young)).hasMessageContaining("being stored");

        // A live process holds the claim (its lease is renewed): it may still commit, so the retry waits.
        RedisState otherConnection = new RedisState(redisServer.url(), 2000, topic + ":");
        try (RedisEventIdLedger live = new RedisEventIdLedger(otherConnection, 600_000, PENDING_MILLIS)) {
            List<StoredEvent> held = events("l-1");
            assertThat(live.claim(List.of("ds:l-1"), deadWriter.writerTag())).containsExactly(EventIdLedger.Claim.CLAIMED);
            String value = redis.jedis().get(redis.key("dedup", "ds:l-1"));
            String[] parts = value.split(":", 4);
            String aged = "P:" + parts[1] + ":" + (System.currentTimeMillis() - DedupingSink.Settler.SETTLE_AFTER_MILLIS - 1000) + ":" + parts[3];
            redis.jedis().set(redis.key("dedup", "ds:l-1"), aged);
            assertThat(failure(held)).hasMessageContaining("being stored");

            // Once its lease lapses (the process died), the same retry is settled from the log.
            live.close();
            assertThat(retry(held)).isEqualTo(new WriteResult(1, 0));
        } finally {
            otherConnection.close();
        }
        assertThat(published()).containsOnlyKeys("l-1");
    }

    Throwable failure(List<StoredEvent> events) {
        try {
            retry(events);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
