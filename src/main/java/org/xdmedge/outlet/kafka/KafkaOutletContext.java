package org.xdmedge.outlet.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;

/**
 * What the parts of one Kafka outlet ({@link KafkaEventSink}, its {@link KafkaSender}s and its
 * {@link KafkaLogSettler}) share: the settings, the producer configuration derived from them, the
 * queue of accepted writes, the outlet's two state flags and its counters.
 *
 * <p>Invariants: {@code producerConfig} always carries the outlet's guarantees (idempotence,
 * {@code acks=all}) over the user's settings, and Kafka accepted it when the context was built;
 * {@code accepting} goes from true to false once, in {@link KafkaEventSink#close}, and never back.
 *
 * <p>Threads: the event loop (writes, readiness), every sender thread and the settle thread read
 * this object at once, so each field is final, volatile or atomic. Only the sender threads write
 * {@code healthy}; only the settle thread raises {@code registrationsWanted}.
 */
final class KafkaOutletContext {
    /** One logger for the whole outlet, so one level setting covers its sink, senders and settler. */
    static final Logger log = LoggerFactory.getLogger(KafkaEventSink.class);

    /** A write the sink accepted and a sender completes, with its time in the queue for expiry. */
    record PendingWrite(List<StoredEvent> events, CompletableFuture<WriteResult> done, long queuedAtNanos) {}

    final KafkaEventSink.Settings settings;
    final Map<String, Object> producerConfig;
    final BlockingQueue<PendingWrite> queue;
    /** How long a commit (or a fence's registration) may keep retrying before its outcome counts as unknown. */
    final long commitRetryMillis;
    /** The user's security settings, which the admin and consumer clients need as well as the producers. */
    final Map<String, Object> clientSecurity = new HashMap<>();
    volatile boolean accepting = true;
    volatile boolean healthy = false;
    /** Raised to have every sender register its transactional id anew (see {@link KafkaLogSettler}). */
    final AtomicLong registrationsWanted = new AtomicLong();
    final AtomicLong publishedEvents = new AtomicLong();
    final AtomicLong transactions = new AtomicLong();
    final AtomicLong failedTransactions = new AtomicLong();

    KafkaOutletContext(KafkaEventSink.Settings settings) {
        this.settings = settings;
        this.producerConfig = producerConfig(settings);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        // Refuse to start on settings Kafka rejects (the producer validates them without connecting).
        newProducer(settings.transactionalId() + "-check").close(Duration.ZERO);
        long maxBlock = longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG);
        long delivery = longSetting(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
        this.commitRetryMillis = delivery + 2 * maxBlock;
        for (String key : List.of("security.protocol", "ssl.truststore.location", "ssl.truststore.password",
                "ssl.truststore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
                "ssl.keystore.type", "sasl.mechanism", "sasl.jaas.config", "client.dns.lookup")) {
            if (producerConfig.containsKey(key)) {
                clientSecurity.put(key, producerConfig.get(key));
            }
        }
    }

    static Map<String, Object> producerConfig(KafkaEventSink.Settings s) {
        Map<String, Object> c = new HashMap<>();
        // Defaults that keep a client's wait bounded when the cluster is slow or gone.
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
        // Every transaction ends in a flush, so waiting for fuller batches only adds latency.
        c.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        c.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
        c.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        for (Map.Entry<String, Object> e : s.producer().entrySet()) {
            c.put(e.getKey(), String.valueOf(e.getValue()));
        }
        // The guarantees of the outlet; the config check refuses attempts to change them.
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        return c;
    }

    long longSetting(String key) {
        return Long.parseLong(String.valueOf(producerConfig.get(key)));
    }

    Producer<byte[], byte[]> newProducer(String transactionalId) {
        return newProducer(transactionalId, transactionalId);
    }

    Producer<byte[], byte[]> newProducer(String transactionalId, String clientId) {
        Map<String, Object> c = new HashMap<>(producerConfig);
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        c.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
    }

    String topicFor(StoredEvent e) {
        return settings.topicTemplate().replace("{dataset}", e.dataset()).replace("{datastreamId}", e.datastreamId());
    }
}
