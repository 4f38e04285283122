package org.xdmedge.outlet.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.xdmedge.testing.TestEdge;

/** Configurations and request bodies shared by the Kafka outlet tests. */
final class KafkaTestSupport {
    private KafkaTestSupport() {}

    /**
     * Datastream {@code ds} → dataset {@code web-events} on Kafka topic {@code <topic>}; datastream
     * {@code local} → dataset {@code local-events} in the embedded store. Short producer timeouts so
     * an outage shows quickly; {@code redisUrl} may be null (dedup then lives in SQLite).
     */
    static String config(String bootstrap, String topic, String redisUrl) {
        String state = redisUrl == null ? "state: { dedup: { pendingSeconds: 20 } }\n"
                : "state: { redis: { url: \"" + redisUrl + "\", keyPrefix: \"" + topic + ":\" }, dedup: { windowSeconds: 600, pendingSeconds: 20 } }\n";
        return """
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - { id: ds, orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg, dataset: web-events }
                  - { id: local, orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg, dataset: local-events }
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka:
                      bootstrapServers: "%s"
                      topic: "%s"
                      responseTimeoutMs: 8000
                      retryAfterSeconds: 1
                      producer:
                        max.block.ms: 3000
                        request.timeout.ms: 3000
                        delivery.timeout.ms: 6000
                        linger.ms: 2
                """.formatted(bootstrap, topic) + state;
    }

    /** A {@code /v2/collect} body of events with the given {@code _id}s, each with a CRMID primary identity. */
    static String collect(List<String> ids) {
        StringBuilder b = new StringBuilder("{\"events\":[");
        for (int i = 0; i < ids.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append("""
                    {"xdm":{"_id":"%s","eventType":"web.webpagedetails.pageViews","timestamp":"2026-01-02T03:04:05.678Z",
                     "identityMap":{"CRMID":[{"id":"crm-%s","primary":true}]},
                     "web":{"webPageDetails":{"name":"page %s"}}},"data":{"n":%d}}""".formatted(ids.get(i), ids.get(i), ids.get(i), i));
        }
        return b.append("]}").toString();
    }

    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** How often each event id was published (from the record values). */
    static Map<String, Integer> countByEventId(List<ConsumerRecord<byte[], byte[]>> records) throws Exception {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode line = TestEdge.json(new String(r.value(), StandardCharsets.UTF_8));
            counts.merge(line.get("eventId").asText(), 1, Integer::sum);
        }
        return counts;
    }

    static List<String> ids(String prefix, int n) {
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(prefix + "-" + i);
        }
        return ids;
    }
}
