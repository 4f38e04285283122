package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventReader;
import org.xdmedge.testing.EdgeHttpTest;

/** Whatever the client's formatting, each stored event exports as one JSON line with our members filled in. */
class StoredEventTextTest extends EdgeHttpTest {

    private List<String> exportLines() throws Exception {
        List<String> lines = new ArrayList<>();
        EventReader.forEach(dir, null, e -> lines.add(new String(EventRecords.toBytes(e), StandardCharsets.UTF_8)));
        return lines;
    }

    @Test
    void spacedTabbedBomAndPrettyBodiesAllExportAsOneLineEach() throws Exception {
        String spaced = "{\"event\":{ \"xdm\" : {\t\"n\" : 2.50 , \"e\":1e5, \"s\":\"caf\u00e9 \\\"q\\\"\" }\t, \"data\" : { \"k\" : [ 1 ] } }}";
        String pretty = "{\n  \"event\": {\n    \"xdm\": {\n      \"n\": 2.50\n    },\n    \"data\": {\"k\": [1]}\n  }\n}";
        for (String body : List.of(spaced, "\uFEFF" + spaced, pretty)) {
            var res = edge.postJson("/ee/v2/interact?datastreamId=ds", body);
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        }
        List<String> lines = exportLines();
        assertThat(lines).hasSize(3);
        for (String line : lines) {
            assertThat(line).doesNotContain("\n").doesNotContain("\r");
            JsonNode event = EdgeJson.MAPPER.readTree(line).get("event");
            JsonNode xdm = event.get("xdm");
            assertThat(xdm.get("n").decimalValue().toPlainString()).isEqualTo("2.50");
            assertThat(xdm.get("_id").asText()).isNotEmpty();
            assertThat(xdm.get("timestamp").asText()).endsWith("Z");
            JsonNode ecid = xdm.get("identityMap").get("ECID").get(0);
            assertThat(ecid.get("id").asText()).hasSize(38);
            assertThat(ecid.get("primary").asBoolean()).isTrue();
            assertThat(ecid.get("authenticatedState").asText()).isEqualTo("ambiguous");
            assertThat(event.get("data").get("k").get(0).asInt()).isEqualTo(1);
        }
        JsonNode first = EdgeJson.MAPPER.readTree(lines.get(0)).get("event").get("xdm");
        assertThat(first.get("s").asText()).isEqualTo("caf\u00e9 \"q\"");
        assertThat(first.get("e").decimalValue().compareTo(new BigDecimal("1e5"))).isZero();
    }
}
