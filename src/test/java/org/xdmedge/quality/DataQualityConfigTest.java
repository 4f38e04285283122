package org.xdmedge.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;

/** The data-quality keys of a datastream: every mistake named with its key and line, files relative to the configuration. */
class DataQualityConfigTest {
    @TempDir
    Path dir;

    @Test
    void everyMappingMistakeIsNamedWithItsKeyAndLine() {
        String yaml = """
                organizations: [ { id: %s } ]
                datastreams:
                  - id: shop
                    orgId: %1$s
                    dataset: quarantine
                    invalidEvents: drop
                    mapping:
                      - { from: data.a, to: xdm.b, fn: reverse }
                      - { from: data.a, to: data.b }
                      - { from: [data.a, data.b], to: xdm.c }
                      - { from: "data.a[x]", to: xdm.c }
                      - { from: data.a, to: xdm.c, fn: date, format: "dd/MM/yyyy qqqqqq" }
                      - { from: data.a, to: xdm.c, lower: true }
                      - { to: xdm.c }
                """.formatted(QualityFixtures.ORG);
        assertThatThrownBy(() -> new ConfigLoader().parse(yaml, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'datastreams[0].dataset' at line 5: 'quarantine' is the edge's own dataset")
                .hasMessageContaining("'datastreams[0].invalidEvents' at line 6: must be 'quarantine' or 'reject'")
                .hasMessageContaining("'datastreams[0].mapping[0].fn' at line 8: must be one of copy, lower")
                .hasMessageContaining("'datastreams[0].mapping[1].to' at line 9: must be an xdm path")
                .hasMessageContaining("'datastreams[0].mapping[2].from' at line 10: a list of paths is for fn: concat")
                .hasMessageContaining("'datastreams[0].mapping[3].from' at line 11: 'data.a[x]' has an array index that is not a number")
                .hasMessageContaining("'datastreams[0].mapping[4].format' at line 12: is not a date pattern")
                .hasMessageContaining("'datastreams[0].mapping[5].lower' at line 13: applies to fn: sha256 only")
                .hasMessageContaining("'datastreams[0].mapping[6].from' at line 14: is required");
    }

    @Test
    void theSchemaFileIsRelativeToTheConfigurationFile() throws Exception {
        Files.createDirectories(dir.resolve("schemas"));
        Files.copy(QualityFixtures.schema(), dir.resolve("schemas/web.schema.json"));
        Path yaml = dir.resolve("edge.yaml");
        Files.writeString(yaml, """
                organizations: [ { id: %s } ]
                datastreams:
                  - { id: shop, orgId: %1$s, dataset: web-events, schema: schemas/web.schema.json }
                """.formatted(QualityFixtures.ORG));
        EdgeConfig config = new ConfigLoader().load(yaml);
        assertThat(config.datastreams().get(0).schema()).isEqualTo(dir.resolve("schemas/web.schema.json").toString());
        assertThat(config.datastreams().get(0).invalidEvents()).isEqualTo("quarantine");
        DataQuality quality = DataQuality.compile(config);
        assertThat(quality.rules("shop")).isNotNull();
        assertThat(quality.rules("shop").onInvalid()).isEqualTo(DataQuality.OnInvalid.QUARANTINE);
    }
}
