package org.xdmedge.forwarding;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.protocol.EdgeJson;

/**
 * Forwarding of Kafka datasets: a consumer in the group {@code xdm-edge-forward-<destination>}
 * reads the dataset topics {@code read_committed} (only events whose transaction committed, that
 * is, events the edge acknowledged) and hands the selected ones, batch by batch in each partition's
 * order, to the destination's {@link Forwarder}; the group's offsets are committed after the
 * destination's 2xx (or once the batch is dead letters). Every node running the same configuration
 * joins the group, so the partitions are shared between nodes and move to the others when a node
 * stops.
 */
final class KafkaForwarder {
    private static final Logger log = LoggerFactory.getLogger(KafkaForwarder.class);
    /** Consumer settings taken from the dataset's producer settings: how to reach and log in to the cluster. */
    private static final List<String> CLIENT_KEYS = List.of("security.protocol", "ssl.truststore.location",
            "ssl.truststore.password", "ssl.truststore.type", "ssl.keystore.location", "ssl.keystore.password",
            "ssl.key.password", "ssl.keystore.type", "sasl.mechanism", "sasl.jaas.config", "client.dns.lookup");

    private final Forwarder engine;
    private final String bootstrapServers;
    private final Map<String, Object> client;
    private final List<String> topics;
    private final int maxEvents;
    private final int pollMs;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;
    /** Records of this node's partitions not yet passed: after the consumer's position, and those of the poll in hand. */
    private volatile long lagEvents;
    /** When the oldest record of the poll in hand not yet passed was written; 0 when none is. */
    private volatile long oldestPendingMillis;

    KafkaForwarder(Forwarder engine, String bootstrapServers, Map<String, Object> producer, List<String> topics,
                   int maxEvents, int pollMs) {
        this.engine = engine;
        this.bootstrapServers = bootstrapServers;
        Map<String, Object> settings = new HashMap<>();
        for (String key : CLIENT_KEYS) {
            if (producer.containsKey(key)) {
                settings.put(key, producer.get(key));
            }
        }
        this.client = settings;
        this.topics = List.copyOf(topics);
        this.maxEvents = maxEvents;
        this.pollMs = pollMs;
    }

    String destination() {
        return engine.id();
    }

    /** Records of the partitions this node reads that the destination has not passed (Kafka's consumer lag, {@code read_committed}). */
    long lagEvents() {
        return lagEvents;
    }

    /** Age of the oldest record this node holds and has not passed; 0 when it holds none. */
    double lagSeconds() {
        long oldest = oldestPendingMillis;
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    }

    static String groupId(String destination) {
        return "xdm-edge-forward-" + destination;
    }

    void start() {
        Map<String, Object> config = new HashMap<>(client);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(engine.id()));
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(maxEvents, 500));
        // A destination down for long holds a batch between polls; the group waits that long before moving it.
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3_600_000);
        consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        thread = new Thread(this::run, "forward-" + engine.id() + "-kafka");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(long millis) {
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        if (thread != null) {
            try {
                thread.join(Math.max(1, millis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        log.info("forwarding to '{}' from Kafka topics {} (group {})", engine.id(), topics, groupId(engine.id()));
        try (KafkaConsumer<byte[], byte[]> c = consumer) {
            c.subscribe(topics);
            while (!engine.stopping()) {
                try {
                    if (!forward(c, c.poll(Duration.ofMillis(pollMs)))) {
                        return;
                    }
                } catch (WakeupException e) {
                    return;
                } catch (CommitFailedException e) {
                    // The group moved these partitions to another node, which reads them again from the last commit.
                    log.warn("forwarding to '{}': the Kafka group moved partitions meanwhile; their last batch is sent again by their new reader",
                            engine.id());
                } catch (InterruptedException e) {
                    return;
                } catch (IOException | RuntimeException e) {
                    log.warn("forwarding to '{}' from Kafka: {}; trying again in 1 s", engine.id(), e.toString());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException stopped) {
                        return;
                    }
                    // Read again from the last committed offsets: nothing after them counts as passed.
                    c.assignment().forEach(tp -> {
                        OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
                        if (committed != null) {
                            c.seek(tp, committed);
                        } else {
                            c.seekToBeginning(List.of(tp));
                        }
                    });
                }
            }
        }
    }

    /** Sends what a poll returned in batches; false when the forwarder stops (nothing more is committed). */
    private boolean forward(KafkaConsumer<byte[], byte[]> c, ConsumerRecords<byte[], byte[]> records)
            throws IOException, InterruptedException {
        long behind = 0;
        for (TopicPartition tp : c.assignment()) {
            behind += c.currentLag(tp).orElse(0);
        }
        int held = records.count();
        lagEvents = behind + held;
        if (records.isEmpty()) {
            oldestPendingMillis = 0;
            return true;
        }
        List<Forwarder.Pending> batch = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> passed = new HashMap<>();
        int read = 0;
        for (ConsumerRecord<byte[], byte[]> r : records) {
            if (batch.isEmpty()) {
                oldestPendingMillis = r.timestamp();
            }
            read++;
            passed.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            StoredEvent event = event(r.value());
            Forwarder.Pending p = event == null ? null : engine.pending(r.offset(), event);
            if (p != null) {
                batch.add(p);
            }
            if (batch.size() == maxEvents) {
                if (!engine.deliverFromKafka(batch)) {
                    return false;
                }
                c.commitSync(passed);
                batch.clear();
                lagEvents = behind + held - read;
            }
        }
        if (!batch.isEmpty() && !engine.deliverFromKafka(batch)) {
            return false;
        }
        c.commitSync(passed);
        lagEvents = behind;
        oldestPendingMillis = 0;
        return true;
    }

    /** A record's value (the export shape) as the event it was; null when it is not one. */
    static StoredEvent event(byte[] value) {
        try {
            JsonNode line = EdgeJson.MAPPER.readTree(value);
            JsonNode identity = line.path("primaryIdentity");
            return new StoredEvent(line.path("requestId").asText(), line.path("datastreamId").asText(),
                    line.path("dataset").asText(), Instant.parse(line.path("receivedAt").asText()).toEpochMilli(),
                    line.path("eventId").asText(), identity.path("namespace").asText(null), identity.path("id").asText(null),
                    EdgeJson.MAPPER.writeValueAsBytes(line.path("event")));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
