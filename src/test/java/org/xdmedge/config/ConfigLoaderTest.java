package org.xdmedge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.xdmedge.store.log.FramePacking;

class ConfigLoaderTest {
    private final ConfigLoader loader = new ConfigLoader();

    @Test
    void readsTheDocumentedExample() throws Exception {
        EdgeConfig config = loader.parse("""
                server: { region: or2, maxRequestBytes: 65536 }
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - id: my-datastream
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    enabled: true
                    dataset: web-events
                """, "test");
        assertThat(config.server().region()).isEqualTo("or2");
        assertThat(config.server().maxRequestBytes()).isEqualTo(65536);
        assertThat(config.server().port()).isEqualTo(8080);
        assertThat(config.datastreams()).singleElement().satisfies(ds -> {
            assertThat(ds.id()).isEqualTo("my-datastream");
            assertThat(ds.dataset()).isEqualTo("web-events");
            assertThat(ds.enabled()).isTrue();
        });
    }

    @Test
    void yamlBooleanLikeWordsStayTheTextTheyAre() throws Exception {
        EdgeConfig config = loader.parse("""
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - { id: off, orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg, enabled: false, dataset: no }
                  - { id: yes, orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg, dataset: on }
                """, "test");
        assertThat(config.datastreams()).extracting(EdgeConfig.DatastreamConfig::id).containsExactly("off", "yes");
        assertThat(config.datastreams()).extracting(EdgeConfig.DatastreamConfig::dataset).containsExactly("no", "on");
        assertThat(config.datastreams().get(0).enabled()).isFalse();
    }

    @Test
    void embeddedDefaultHasTheDemoDatastream() throws Exception {
        EdgeConfig config = loader.loadDefault();
        assertThat(config.datastreams()).singleElement().satisfies(ds -> {
            assertThat(ds.id()).isEqualTo("demo");
            assertThat(ds.dataset()).isEqualTo("events");
        });
        assertThat(config.organizations()).hasSize(1);
    }

    @Test
    void unknownKeyNamesKeyAndLine() {
        assertThatThrownBy(() -> loader.parse("""
                server:
                  region: or2
                  maxRequestByte: 10
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("maxRequestByte")
                .hasMessageContaining("line 3")
                .hasMessageContaining("edge.yaml");
    }

    @Test
    void wrongTypeNamesKeyAndLine() {
        assertThatThrownBy(() -> loader.parse("""
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    enabled: sometimes
                    dataset: events
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("datastreams[0].enabled")
                .hasMessageContaining("line 6");
        assertThatThrownBy(() -> loader.parse("server: { port: eighty }", "edge.yaml"))
                .hasMessageContaining("server.port").hasMessageContaining("line 1");
    }

    @Test
    void datastreamOfUnknownOrganizationNamesKeyAndLine() {
        assertThatThrownBy(() -> loader.parse("""
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - id: ds
                    dataset: events
                    orgId: NOPE@AdobeOrg
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'datastreams[0].orgId' at line 6")
                .hasMessageContaining("NOPE@AdobeOrg");
    }

    @Test
    void theFreeSpaceFloorIsTheStoresOwnUnlessSetAndNeverNegative() throws Exception {
        assertThat(loader.parse("server: { port: 8080 }", "edge.yaml").storage().minFreeBytes()).isNull();
        assertThat(loader.parse("storage: { minFreeBytes: 0 }", "edge.yaml").storage().minFreeBytes()).isZero();
        assertThatThrownBy(() -> loader.parse("storage: { minFreeBytes: -1 }", "edge.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("storage.minFreeBytes");
    }

    @Test
    void framesArePackedWithLz4UnlessCompressionSaysZstdOrNoneAndNothingElseIsTaken() throws Exception {
        assertThat(loader.parse("server: { port: 8080 }", "edge.yaml").storage().compression()).isEqualTo("lz4");
        assertThat(loader.parse("storage: { compression: zstd }", "edge.yaml").storage().compression()).isEqualTo("zstd");
        assertThat(loader.parse("storage: { compression: none }", "edge.yaml").storage().compression()).isEqualTo("none");
        assertThatThrownBy(() -> loader.parse("storage: { compression: gzip }", "edge.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("storage.compression")
                .hasMessageContaining("lz4, zstd, none");
        // Every name the configuration takes is one the store knows, and the other way round.
        for (String name : EdgeConfig.StorageConfig.COMPRESSIONS) {
            assertThat(FramePacking.of(name)).as(name).isNotNull();
        }
        assertThat(FramePacking.configNames())
                .containsExactlyInAnyOrderElementsOf(EdgeConfig.StorageConfig.COMPRESSIONS);
    }

    @Test
    void theWritersTuningsAreOnUnlessSwitchedOffAndNothingElseIsTaken() throws Exception {
        EdgeConfig.StorageConfig defaults = loader.parse("server: { port: 8080 }", "edge.yaml").storage();
        assertThat(defaults.writerHandOver()).isEqualTo("auto");
        assertThat(defaults.zerosAhead()).isTrue();
        EdgeConfig.StorageConfig off = loader.parse("storage: { writerHandOver: off, zerosAhead: false }", "edge.yaml")
                .storage();
        assertThat(off.writerHandOver()).as("YAML 1.1's off stays a word").isEqualTo("off");
        assertThat(off.zerosAhead()).isFalse();
        assertThatThrownBy(() -> loader.parse("storage: { writerHandOver: always }", "edge.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("storage.writerHandOver")
                .hasMessageContaining("auto, off");
        assertThatThrownBy(() -> loader.parse("storage: { zerosAhead: \"no\" }", "edge.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("zerosAhead");
    }

    @Test
    void retentionIsOffByDefaultAndItsLimitsAreChecked() throws Exception {
        assertThat(loader.parse("server: { port: 8080 }", "edge.yaml").storage().retention().maxAge()).isNull();
        EdgeConfig config = loader.parse("storage: { retention: { maxBytes: 1099511627776, maxAgeHours: 720 } }", "edge.yaml");
        assertThat(config.storage().retention().maxBytesOrZero()).isEqualTo(1L << 40);
        assertThat(config.storage().retention().maxAge()).isEqualTo(Duration.ofDays(30));
        assertThatThrownBy(() -> loader.parse("storage: { retention: { maxBytes: 1000, maxAgeHours: 0 } }", "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("storage.retention.maxBytes").hasMessageContaining("storage.retention.maxAgeHours");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThatThrownBy(() -> loader.parse("""
                server: { port: 70000 }
                organizations:
                  - id: not-an-org
                datastreams:
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: e
                """, "edge.yaml"))
                .hasMessageContaining("'server.port' at line 1")
                .hasMessageContaining("'organizations[0].id' at line 3")
                .hasMessageContaining("'datastreams[0].dataset'")
                .hasMessageContaining("'datastreams[1].id' at line 7: duplicate");
    }

    @Test
    void brokenYamlIsRefused() {
        assertThatThrownBy(() -> loader.parse("server: [unclosed", "edge.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("line");
    }
}
