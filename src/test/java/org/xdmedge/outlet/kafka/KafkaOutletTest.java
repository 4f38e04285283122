package org.xdmedge.outlet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.collect;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.config;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.countByEventId;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.header;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.ids;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.Fixtures;
import org.xdmedge.testing.KafkaTestCluster;
import org.xdmedge.testing.RedisTestServer;
import org.xdmedge.testing.TestEdge;

/** The Kafka outlet against a real KRaft broker in this JVM; one cluster for the whole class. */
class KafkaOutletTest {
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

    static TestEdge edge(Path dataDir, String topic, String redisUrl) throws Exception {
        TestEdge edge = TestEdge.start(config(kafka.bootstrapServers(), topic, redisUrl), dataDir);
        edge.awaitReady(Duration.ofSeconds(60));
        return edge;
    }

    @Test
    void acknowledgedEventsArePublishedOnceWithIdentityKeyHeadersAndTheExportLine() throws Exception {
        try (TestEdge edge = edge(dir, "single", null)) {
            HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds", Fixtures.seed("collect-two-fpid-events.json"));
            assertThat(res.statusCode()).isEqualTo(202);
            String requestId = TestEdge.json(res.body()).get("requestId").asText();

            List<ConsumerRecord<byte[], byte[]>> records = kafka.readCommitted("single");
            assertThat(records).hasSize(2);
            assertThat(records).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                    .containsExactlyInAnyOrder("79bf8e83-f708-414b-b1ed-5789ff33bf0b", "871e8460-a329-4e96-a5b6-ff359fb0afb9");
            for (ConsumerRecord<byte[], byte[]> r : records) {
                assertThat(header(r, "requestId")).isEqualTo(requestId);
                assertThat(header(r, "datastreamId")).isEqualTo("ds");
                JsonNode line = TestEdge.json(new String(r.value(), StandardCharsets.UTF_8));
                assertThat(line.get("requestId").asText()).isEqualTo(requestId);
                assertThat(line.get("dataset").asText()).isEqualTo("web-events");
                assertThat(line.get("primaryIdentity").get("namespace").asText()).isEqualTo("FPID");
                assertThat(line.get("primaryIdentity").get("id").asText()).isEqualTo(new String(r.key(), StandardCharsets.UTF_8));
                assertThat(line.get("eventId").asText()).isEqualTo(line.get("event").get("xdm").get("_id").asText());
                assertThat(line.fieldNames()).toIterable().containsExactly("requestId", "datastreamId", "dataset",
                        "receivedAt", "eventId", "primaryIdentity", "event");
            }
            // Nothing of a Kafka dataset lands in the embedded store.
            assertThat(edge.exported()).isEmpty();
            String metrics = edge.get("/metrics").body();
            assertThat(metrics).contains("xdmedge_kafka_events_published{dataset=\"web-events\"} 2.0");
            assertThat(metrics).contains("xdmedge_kafka_ready{dataset=\"web-events\"} 1.0");
        }
    }

    @Test
    void interactEventIsKeyedByTheEcidWhenItHasNoOtherPrimaryIdentity() throws Exception {
        try (TestEdge edge = edge(dir, "interact", null)) {
            String body = """
                    {"event":{"xdm":{"eventType":"web.webpagedetails.pageViews","web":{"webPageDetails":{"name":"home"}}}},
                     "query":{"identity":{"fetch":["ECID"]}}}""";
            HttpResponse<String> res = edge.postJson("/ee/v2/interact?configId=ds", body);
            assertThat(res.statusCode()).isEqualTo(200);
            String ecid = null;
            for (JsonNode handle : TestEdge.json(res.body()).get("handle")) {
                if (handle.get("type").asText().equals("identity:result")) {
                    ecid = handle.get("payload").get(0).get("id").asText();
                }
            }
            assertThat(ecid).matches("[0-9]{38}");
            List<ConsumerRecord<byte[], byte[]>> records = kafka.readCommitted("interact");
            assertThat(records).hasSize(1);
            assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo(ecid);
        }
    }

    @Test
    void retryOnTheSameNodeWithoutRedisIsPublishedOnce() throws Exception {
        try (TestEdge edge = edge(dir, "retry-local", null)) {
            String body = collect(ids("r", 3));
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
            // Half old, half new: only the new ones are published.
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", collect(List.of("r-2", "r-3"))).statusCode()).isEqualTo(202);
            Map<String, Integer> counts = countByEventId(kafka.readCommitted("retry-local"));
            assertThat(counts).containsOnlyKeys("r-0", "r-1", "r-2", "r-3");
            assertThat(counts.values()).containsOnly(1);
        }
    }

    @Test
    void twoNodesSharingKafkaAndRedisPublishEveryEventExactlyOnceEvenWhenRetriedToTheOtherNode() throws Exception {
        try (RedisTestServer redis = RedisTestServer.start(dir.resolve("redis"));
             TestEdge a = edge(dir.resolve("a"), "two-nodes", redis.url());
             TestEdge b = edge(dir.resolve("b"), "two-nodes", redis.url())) {
            List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                List<String> batch = ids("n" + i, 3);
                TestEdge first = i % 2 == 0 ? a : b;
                TestEdge other = i % 2 == 0 ? b : a;
                assertThat(first.postJson("/ee/v2/collect?datastreamId=ds", collect(batch)).statusCode()).isEqualTo(202);
                acknowledged.addAll(batch);
                // The client did not hear the answer and retries through the load balancer: the other node.
                assertThat(other.postJson("/ee/v2/collect?datastreamId=ds", collect(batch)).statusCode()).isEqualTo(202);
            }
            Map<String, Integer> counts = countByEventId(kafka.readCommitted("two-nodes"));
            assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(acknowledged);
            assertThat(counts.values()).containsOnly(1);

            // The embedded store of each node dedups through Redis too: a retry to B of what A stored is not stored again.
            assertThat(a.postJson("/ee/v2/collect?datastreamId=local", collect(List.of("l-1"))).statusCode()).isEqualTo(202);
            assertThat(b.postJson("/ee/v2/collect?datastreamId=local", collect(List.of("l-1"))).statusCode()).isEqualTo(202);
            assertThat(a.exported()).hasSize(1);
            assertThat(b.exported()).isEmpty();
        }
    }

    @Test
    void kafkaValueIsTheExportLineOfTheSameEvent() throws Exception {
        try (TestEdge edge = edge(dir, "same-line", null)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=local", collect(List.of("x-1"))).statusCode()).isEqualTo(202);
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", collect(List.of("x-1"))).statusCode()).isEqualTo(202);
            JsonNode exported = edge.exported().get(0);
            JsonNode published = TestEdge.json(new String(kafka.readCommitted("same-line").get(0).value(), StandardCharsets.UTF_8));
            // Same shape, same event; only the request, datastream and dataset differ.
            assertThat(published.get("event")).isEqualTo(exported.get("event"));
            assertThat(published.get("primaryIdentity")).isEqualTo(exported.get("primaryIdentity"));
            assertThat(published.get("eventId")).isEqualTo(exported.get("eventId"));
        }
    }
}
