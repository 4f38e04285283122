package org.xdmedge.privacy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.protocol.EdgeJson;

/**
 * Tells Kafka of a delete (a Kafka log cannot be edited in place): one deletion record per job on
 * {@code privacy.kafkaDeletionTopic}, keyed by the job id, and on each Kafka dataset's topic a
 * tombstone (null value) keyed by each identity its records may be keyed by (the identity asked
 * about and every linked ECID: dataset records are keyed by their primary identity), which
 * removes them from a compacted topic. Sent with acknowledgements from every in-sync replica
 * before the job is marked complete; a job that could not send them runs again, so a record may
 * come more than once (the job id tells copies apart).
 */
public final class DeletionRecords implements AutoCloseable {
    private static final long SEND_TIMEOUT_SECONDS = 30;
    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final List<String> datasetTopics;

    DeletionRecords(Producer<byte[], byte[]> producer, String topic, List<String> datasetTopics) {
        this.producer = producer;
        this.topic = topic;
        this.datasetTopics = List.copyOf(datasetTopics);
    }

    /** The publisher {@code config} asks for, on its first Kafka dataset's cluster; null when none is set. */
    public static DeletionRecords of(EdgeConfig config) {
        String topic = config.privacy().kafkaDeletionTopic();
        if (topic == null) {
            return null;
        }
        List<EdgeConfig.KafkaOutletConfig> kafka = config.datasets().stream()
                .filter(d -> EdgeConfig.DatasetConfig.KAFKA.equals(d.outlet()) && d.kafka() != null)
                .map(EdgeConfig.DatasetConfig::kafka).toList();
        if (kafka.isEmpty()) {
            throw new IllegalStateException("privacy.kafkaDeletionTopic needs a Kafka dataset");
        }
        EdgeConfig.KafkaOutletConfig first = kafka.get(0);
        Map<String, Object> c = new HashMap<>();
        for (var e : first.producer().entrySet()) {
            // The cluster's connection and security settings; the outlet's own tuning stays its own.
            if (e.getKey().startsWith("security.") || e.getKey().startsWith("sasl.") || e.getKey().startsWith("ssl.")) {
                c.put(e.getKey(), String.valueOf(e.getValue()));
            }
        }
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, first.bootstrapServers());
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        c.put(ProducerConfig.CLIENT_ID_CONFIG, "xdm-edge-privacy");
        Set<String> topics = new LinkedHashSet<>();
        kafka.stream().filter(k -> first.bootstrapServers().equals(k.bootstrapServers()))
                .forEach(k -> topics.add(k.topic()));
        return new DeletionRecords(new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer()),
                topic, List.copyOf(topics));
    }

    /** Sends the job's deletion record and tombstones; returns once every one is acknowledged. */
    void publish(PrivacyJob job, Set<String> ecids, long deletedEvents) throws IOException {
        var doc = EdgeJson.MAPPER.createObjectNode();
        doc.put("jobId", job.jobId()).put("orgId", job.orgId()).put("regulation", job.regulation())
                .put("namespace", job.namespace()).put("id", job.value()).put("deletedAt", Instant.now().toString())
                .put("embeddedEventsDeleted", deletedEvents);
        var linked = doc.putArray("linkedEcids");
        ecids.forEach(linked::add);
        var tombstoned = doc.putArray("tombstonedTopics");
        datasetTopics.forEach(tombstoned::add);
        Set<String> keys = new LinkedHashSet<>();
        keys.add(job.value());
        keys.addAll(ecids);
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        try {
            for (String datasetTopic : datasetTopics) {
                for (String key : keys) {
                    sent.add(producer.send(new ProducerRecord<>(datasetTopic, key.getBytes(StandardCharsets.UTF_8), null)));
                }
            }
            sent.add(producer.send(new ProducerRecord<>(topic, job.jobId().getBytes(StandardCharsets.UTF_8),
                    EdgeJson.MAPPER.writeValueAsBytes(doc))));
            for (Future<RecordMetadata> f : sent) {
                f.get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending the deletion records", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw new IOException("the deletion records could not be sent to Kafka: " + e, e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
