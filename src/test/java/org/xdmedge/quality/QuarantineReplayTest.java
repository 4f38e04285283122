package org.xdmedge.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.quality.QualityFixtures.batch;
import static org.xdmedge.quality.QualityFixtures.event;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.testing.TestEdge;

/** {@code quarantine replay} after the schema is fixed: each event lands once, the rest keep their new reasons. */
public class QuarantineReplayTest {
    @TempDir
    Path dir;

    public static String yaml(Path schema) {
        return """
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: %1$s
                datastreams:
                  - id: shop
                    orgId: %1$s
                    dataset: web-events
                    schema: %2$s
                    mapping:
                      - { from: data.prop1, to: xdm._acme.campaign }
                  - id: other
                    orgId: %1$s
                    dataset: other-events
                    schema: %2$s
                """.formatted(QualityFixtures.ORG, schema);
    }

    /** Three events quarantined under a schema whose tenant campaign wrongly must be an integer. */
    private Path quarantineUnderTheWrongSchema(Path data) throws Exception {
        Path wrong = QualityFixtures.schemaWithIntegerCampaign(dir);
        try (TestEdge edge = TestEdge.start(yaml(wrong), data)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=shop", batch(
                    event("r-1", "", "{\"prop1\":\"spring\"}"),
                    event("r-2", "", "{\"prop1\":\"summer\"}"),
                    event("r-3", "\"environment\":{\"type\":\"car\"}", "{\"prop1\":\"autumn\"}"))).statusCode()).isEqualTo(202);
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=other", batch(
                    event("o-1", "\"environment\":{\"type\":\"car\"}", null))).statusCode()).isEqualTo(202);
        }
        assertThat(TestEdge.exported(data, "web-events")).isEmpty();
        assertThat(current(data, null)).hasSize(4);
        Path fixed = dir.resolve("fixed.yaml");
        Files.writeString(fixed, yaml(QualityFixtures.schema()));
        return fixed;
    }

    @Test
    void replayAfterASchemaFixStoresWhatNowPassesOnceEvenWhenRunTwice() throws Exception {
        Path data = dir.resolve("data");
        Path fixed = quarantineUnderTheWrongSchema(data);

        Run first = replay("--config", fixed.toString(), "--data", data.toString(), "--datastream", "shop");
        assertThat(first.code()).as(first.out()).isZero();
        assertThat(first.out()).contains("replayed 3 quarantined events: 2 stored in their dataset, 0 already there, "
                + "1 still invalid (1 with new reasons)");
        List<JsonNode> stored = TestEdge.exported(data, "web-events");
        assertThat(stored).extracting(l -> l.get("eventId").asText()).containsExactlyInAnyOrder("r-1", "r-2");
        JsonNode r1 = QualityFixtures.byEventId(stored, "r-1");
        assertThat(r1.at("/event/xdm/_acme/campaign").asText()).isEqualTo("spring");
        assertThat(r1.get("requestId").asText()).isNotBlank();

        // r-3 stays, with the reason that is left (the enum), not the campaign's; o-1 was not asked for.
        List<Quarantine.Entry> left = current(data, null);
        assertThat(left).extracting(Quarantine.Entry::eventId).containsExactlyInAnyOrder("r-3", "o-1");
        Quarantine.Entry r3 = left.stream().filter(e -> e.eventId().equals("r-3")).findFirst().orElseThrow();
        assertThat(r3.violations()).extracting(Violation::path).containsExactly("xdm.environment.type");
        assertThat(r3.xdm().has("_acme")).as("kept as sent").isFalse();

        Run second = replay("--config", fixed.toString(), "--data", data.toString());
        assertThat(second.code()).as(second.out()).isZero();
        assertThat(second.out()).contains("replayed 2 quarantined events: 0 stored in their dataset, 0 already there, "
                + "2 still invalid (0 with new reasons)");
        assertThat(TestEdge.exported(data, "web-events")).hasSize(2);
        assertThat(current(data, null)).hasSize(2);
    }

    @Test
    void replayRefusesToRunBesideAServingEdge() throws Exception {
        Path data = dir.resolve("data");
        Path fixed = quarantineUnderTheWrongSchema(data);
        try (TestEdge running = TestEdge.start(yaml(QualityFixtures.schema()), data)) {
            Run refused = replay("--config", fixed.toString(), "--data", data.toString());
            assertThat(refused.code()).isNotZero();
            assertThat(refused.err().lines().toList()).singleElement()
                    .satisfies(line -> assertThat(line).startsWith("xdm-edge: ").contains(data.toRealPath().toString()));
        }
        assertThat(TestEdge.exported(data, "web-events")).isEmpty();
    }

    @Test
    void anUnknownDatastreamIsNamed() throws Exception {
        Path data = dir.resolve("data");
        Path fixed = quarantineUnderTheWrongSchema(data);
        Run run = replay("--config", fixed.toString(), "--data", data.toString(), "--datastream", "nope");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).startsWith("xdm-edge: datastream 'nope' is not in the configuration");
    }

    static List<Quarantine.Entry> current(Path data, String datastream) throws Exception {
        List<Quarantine.Entry> entries = new ArrayList<>();
        Quarantine.forEachCurrent(data, datastream, entries::add);
        return entries;
    }

    record Run(int code, String out, String err) {}

    static Run replay(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = XdmEdgeCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of("quarantine", "replay"));
        all.addAll(List.of(args));
        int code = cli.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }
}
