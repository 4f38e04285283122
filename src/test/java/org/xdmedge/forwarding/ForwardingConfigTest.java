package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.StartupException;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.DestinationConfig;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.testing.TestEdge;

/** {@code destinations:}, {@code forwarding:} and {@code forwardTo:} as the configuration reads them. */
class ForwardingConfigTest {
    private static final String ORG = TestEdge.ORG;

    @TempDir
    Path dir;

    private static String yaml(String destinations, String forwardTo) {
        return """
                organizations:
                  - id: %s
                datasets:
                  - name: kafka-events
                    outlet: kafka
                    kafka: { bootstrapServers: "127.0.0.1:9", topic: events }
                %s
                datastreams:
                  - id: shop
                    orgId: %s
                    dataset: web-events
                    forwardTo: %s
                """.formatted(ORG, destinations, ORG, forwardTo);
    }

    @Test
    void theIssuesExampleReadsWithItsDefaults() throws Exception {
        EdgeConfig config = new ConfigLoader().parse(yaml("""
                destinations:
                  - id: crm
                    type: http
                    url: https://crm.example.com/events
                    headers: { Authorization: "Bearer ${env:CRM_TOKEN}" }
                    signingSecret: ${env:CRM_SIGNING_SECRET}
                    batch: { maxEvents: 100, maxDelayMs: 500 }
                    retry: { maxAttempts: 12, maxAgeHours: 24 }
                    timeoutMs: 5000
                  - id: fraud
                    url: http://fraud.internal:8080/in
                forwarding: { maxLagBytes: 1073741824 }
                """, "[{ destination: crm, eventTypes: [commerce.purchases, commerce.productListAdds] }, { destination: fraud }]"),
                "test");
        DestinationConfig crm = config.destinations().get(0);
        assertThat(crm.headers()).containsEntry("Authorization", "Bearer ${env:CRM_TOKEN}");
        assertThat(crm.retry().initialBackoffMs()).isEqualTo(1000);
        DestinationConfig fraud = config.destinations().get(1);
        assertThat(fraud.type()).isEqualTo("http");
        assertThat(fraud.batch().maxEvents()).isEqualTo(100);
        assertThat(fraud.timeoutMs()).isEqualTo(5000);
        assertThat(config.forwarding().maxLagBytes()).isEqualTo(1L << 30);
        assertThat(Forwarding.routes(config, "crm")).containsOnlyKeys("shop");
        assertThat(Forwarding.routes(config, "crm").get("shop")).containsExactlyInAnyOrder("commerce.purchases",
                "commerce.productListAdds");
        assertThat(Forwarding.routes(config, "fraud").get("shop")).isEmpty();

        HttpDestination resolved = HttpDestination.of(crm, name -> name.equals("CRM_TOKEN") ? "t0k" : "s3cret");
        assertThat(resolved.id()).isEqualTo("crm");
        assertThatThrownBy(() -> HttpDestination.of(crm, name -> null))
                .hasMessageContaining("destination 'crm', headers.Authorization: the environment variable CRM_TOKEN is not set");
    }

    @Test
    void everyMistakeIsNamedWithItsKey() {
        assertThatThrownBy(() -> new ConfigLoader().parse(yaml("""
                destinations:
                  - id: crm
                    url: ftp://crm.example.com/events
                    headers: { Idempotency-Key: x, X-Token: "${CRM_TOKEN}" }
                    batch: { maxEvents: 0 }
                    retry: { initialBackoffMs: 5000, maxBackoffMs: 10 }
                  - id: crm
                    type: kafka
                    url: http://ok.example.com
                """, "[{ destination: crn }, { destination: crm, eventTypes: [\"\"] }]"), "test"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'destinations[0].url' at line")
                .hasMessageContaining("must be an http:// or https:// URL")
                .hasMessageContaining("'destinations[0].headers.Idempotency-Key' at line")
                .hasMessageContaining("is set by the forwarder itself")
                .hasMessageContaining("'destinations[0].headers.X-Token'")
                .hasMessageContaining("${env:NAME}")
                .hasMessageContaining("'destinations[0].batch.maxEvents'")
                .hasMessageContaining("'destinations[0].retry.maxBackoffMs'")
                .hasMessageContaining("'destinations[1].id'")
                .hasMessageContaining("duplicate destination 'crm'")
                .hasMessageContaining("'destinations[1].type'")
                .hasMessageContaining("'datastreams[0].forwardTo[0].destination'")
                .hasMessageContaining("names no destination (destinations: crm)")
                .hasMessageContaining("'datastreams[0].forwardTo[1].eventTypes[0]'");
    }

    @Test
    void aKafkaDatasetIsReadFromItsTopicInTheDestinationsGroup() throws Exception {
        String text = yaml("destinations: [{ id: crm, url: \"http://127.0.0.1:9/in\" }]", "[{ destination: crm }]")
                .replace("dataset: web-events", "dataset: kafka-events")
                .replace("topic: events", "topic: \"xdm.{dataset}.{datastreamId}\"");
        EdgeConfig config = new ConfigLoader().parse(text, "test");
        var topics = Forwarding.kafkaTopics(config, "crm");
        assertThat(topics).hasSize(1);
        assertThat(topics.values().iterator().next()).containsExactly("xdm.kafka-events.shop");
        assertThat(topics.keySet().iterator().next().bootstrapServers()).isEqualTo("127.0.0.1:9");
        assertThat(KafkaForwarder.groupId("crm")).isEqualTo("xdm-edge-forward-crm");
    }

    @Test
    void anEnvironmentVariableNotSetStopsStartUpNamingIt() {
        String text = """
                organizations:
                  - id: %s
                destinations:
                  - id: crm
                    url: http://127.0.0.1:9/in
                    signingSecret: ${env:XDM_EDGE_TEST_NEVER_SET}
                datastreams:
                  - id: shop
                    orgId: %s
                    dataset: web-events
                """.formatted(ORG, ORG);
        assertThatThrownBy(() -> TestEdge.start(text, dir))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("destination 'crm', signingSecret: the environment variable XDM_EDGE_TEST_NEVER_SET is not set");
    }
}
