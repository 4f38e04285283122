package org.xdmedge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@code datasets[]} and {@code state} are checked as strictly as the rest of the configuration. */
class OutletConfigTest {
    private final ConfigLoader loader = new ConfigLoader();
    private static final String BASE = """
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - { id: ds, orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg, dataset: web-events }
            """;

    @Test
    void readsAKafkaDatasetAndRedisState() throws Exception {
        EdgeConfig config = loader.parse(BASE + """
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka:
                      bootstrapServers: "k1:9092,k2:9092"
                      topic: "xdm.{dataset}"
                      producer: { linger.ms: 10, compression.type: zstd }
                state:
                  redis: { url: "redis://redis:6379/0" }
                  dedup: { windowSeconds: 3600 }
                """, "test");
        var ds = config.datasets().get(0);
        assertThat(ds.outlet()).isEqualTo("kafka");
        assertThat(ds.kafka().bootstrapServers()).isEqualTo("k1:9092,k2:9092");
        assertThat(ds.kafka().producer()).containsEntry("linger.ms", 10).containsEntry("compression.type", "zstd");
        assertThat(ds.kafka().responseTimeoutMs()).isEqualTo(15000);
        assertThat(config.state().redis().url()).isEqualTo("redis://redis:6379/0");
        assertThat(config.state().dedup().windowSeconds()).isEqualTo(3600);
        assertThat(config.state().dedup().pendingSeconds()).isEqualTo(120);
    }

    @Test
    void withoutDatasetsAndStateEverythingStaysEmbedded() throws Exception {
        EdgeConfig config = loader.parse(BASE, "test");
        assertThat(config.datasets()).isEmpty();
        assertThat(config.state().redis()).isNull();
        assertThat(config.state().dedup().windowSeconds()).isEqualTo(86400);
    }

    @Test
    void theEmbeddedOutletIsNamedEmbeddedAndItsFormerNameIsRefusedNamingIt() throws Exception {
        EdgeConfig config = loader.parse(BASE + """
                datasets:
                  - { name: web-events, outlet: embedded }
                  - { name: other }
                """, "test");
        assertThat(config.datasets()).extracting(EdgeConfig.DatasetConfig::outlet).containsExactly("embedded", "embedded");
        assertThatThrownBy(() -> loader.parse(BASE + """
                datasets:
                  - { name: web-events, outlet: sqlite }
                """, "edge.yaml"))
                .hasMessageContaining("datasets[0].outlet")
                .hasMessageContaining("outlet: embedded");
    }

    @Test
    void refusesWhatWouldBreakTheOutletsGuarantees() {
        assertThatThrownBy(() -> loader.parse(BASE + """
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka:
                      bootstrapServers: "k:9092"
                      topic: "events"
                      producer: { acks: "1", enable.idempotence: false }
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'datasets[0].kafka.producer.acks'")
                .hasMessageContaining("'datasets[0].kafka.producer.enable.idempotence'")
                .hasMessageContaining("cannot be changed");
    }

    @Test
    void namesEveryMissingOrWrongKey() {
        assertThatThrownBy(() -> loader.parse(BASE + """
                datasets:
                  - name: a
                    outlet: kafka
                    kafka: { topic: "bad topic" }
                  - name: a
                    outlet: s3
                  - name: b
                    kafka: { bootstrapServers: "k:9092", topic: t }
                state:
                  redis: { url: "http://redis" }
                  dedup: { windowSeconds: 0 }
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'datasets[0].kafka.bootstrapServers'")
                .hasMessageContaining("'datasets[0].kafka.topic'")
                .hasMessageContaining("'datasets[1].name'")
                .hasMessageContaining("duplicate dataset 'a'")
                .hasMessageContaining("'datasets[1].outlet'")
                .hasMessageContaining("'datasets[2].kafka'")
                .hasMessageContaining("'state.redis.url'")
                .hasMessageContaining("'state.dedup.windowSeconds'");
    }

    @Test
    void unknownKeyInsideKafkaNamesIt() {
        assertThatThrownBy(() -> loader.parse(BASE + """
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka: { bootstrapServer: "k:9092", topic: t }
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("bootstrapServer")
                .hasMessageContaining("line 8");
    }

    @Test
    void aKafkaRecordMustHoldTheLargestAcceptedRequest() {
        assertThatThrownBy(() -> loader.parse("server: { maxRequestBytes: 2097152 }\n" + BASE + """
                datasets:
                  - name: web-events
                    outlet: kafka
                    kafka: { bootstrapServers: "k:9092", topic: t }
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'datasets[0].kafka.producer.max.request.size'")
                .hasMessageContaining("server.maxRequestBytes");
    }
}
