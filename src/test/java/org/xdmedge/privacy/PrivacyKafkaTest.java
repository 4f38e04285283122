package org.xdmedge.privacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.TestEdge;

/** A delete job's deletion record and tombstones, on a real KRaft broker in this JVM. */
class PrivacyKafkaTest {
    @TempDir
    Path dir;

    @Test
    void aDeleteJobPublishesItsDeletionRecordAndTombstones() throws Exception {
        try (KafkaTestCluster kafka = KafkaTestCluster.start()) {
            String yaml = """
                    server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
                    organizations:
                      - id: %1$s
                    datastreams:
                      - { id: ds, orgId: %1$s, dataset: web-events }
                      - { id: k, orgId: %1$s, dataset: kafka-events }
                    datasets:
                      - name: kafka-events
                        outlet: kafka
                        kafka: { bootstrapServers: "%2$s", topic: "kafka-events" }
                    privacy:
                      adminTokens: [%3$s]
                      reclaimMinutes: 0
                      kafkaDeletionTopic: privacy-deletions
                    """.formatted(TestEdge.ORG, kafka.bootstrapServers(), AdminTokens.sha256Hex(PrivacyJobsTest.TOKEN));
            try (TestEdge edge = TestEdge.start(yaml, dir)) {
                edge.awaitReady(Duration.ofSeconds(60));
                PrivacyJobsTest.load(edge, 0, 5);
                String jobId = PrivacyJobsTest.submit(edge, "delete", "Email_LC_SHA256", PrivacyJobsTest.email(2));
                JsonNode done = PrivacyJobsTest.await(edge, jobId, PrivacyJobsTest::reclaimed);
                assertEquals(PrivacyJobsTest.EVENTS_EACH, done.get("events").asInt());

                List<ConsumerRecord<byte[], byte[]>> records = kafka.readCommitted("privacy-deletions");
                assertEquals(1, records.size());
                assertEquals(jobId, new String(records.get(0).key(), StandardCharsets.UTF_8));
                JsonNode record = TestEdge.json(new String(records.get(0).value(), StandardCharsets.UTF_8));
                assertEquals("Email_LC_SHA256", record.get("namespace").asText());
                assertEquals(PrivacyJobsTest.email(2), record.get("id").asText());
                assertEquals(TestEdge.ORG, record.get("orgId").asText());
                assertEquals(PrivacyJobsTest.ecid(2), record.get("linkedEcids").get(0).asText());
                assertEquals(10, record.get("embeddedEventsDeleted").asInt());

                List<ConsumerRecord<byte[], byte[]>> tombstones = kafka.readCommitted("kafka-events");
                assertEquals(2, tombstones.size());
                for (ConsumerRecord<byte[], byte[]> t : tombstones) {
                    assertNull(t.value());
                }
                assertTrue(tombstones.stream().anyMatch(t -> new String(t.key(), StandardCharsets.UTF_8)
                        .equals(PrivacyJobsTest.ecid(2))));
            }
        }
    }
}
