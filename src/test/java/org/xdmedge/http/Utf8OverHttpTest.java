package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.store.log.EventReader;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** What is stored is exactly what was sent: malformed UTF-8 is refused, well-formed text kept byte for byte. */
class Utf8OverHttpTest extends EdgeHttpTest {
    private static final String[] MALFORMED = {"e080af", "c0af", "c1bf", "f08080af", "eda080", "edbfbf", "f4908080",
            "f5808080", "e282", "c3", "80", "bfbf", "fe", "ff", "f888808080"};

    private HttpResponse<String> post(String path, byte[] body) throws Exception {
        return edge.send(HttpRequest.newBuilder(edge.uri(path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    private static byte[] concat(String before, byte[] middle, String after) {
        byte[] a = before.getBytes(StandardCharsets.UTF_8);
        byte[] c = after.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[a.length + middle.length + c.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(middle, 0, out, a.length, middle.length);
        System.arraycopy(c, 0, out, a.length + middle.length, c.length);
        return out;
    }

    @Test
    void malformedUtf8InASkippedStringIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        for (String hex : MALFORMED) {
            byte[] bad = HexFormat.of().parseHex(hex);
            // Before the quote and before an ASCII byte; in a member the scan skips, in data, in a batch's second event.
            List<byte[]> bodies = List.of(
                    concat("{\"event\":{\"xdm\":{\"web\":{\"page\":{\"name\":\"a", bad, "\"}}}}}"),
                    concat("{\"event\":{\"xdm\":{\"web\":{\"page\":{\"name\":\"a", bad, "b\"}}}}}"),
                    concat("{\"event\":{\"xdm\":{},\"data\":{\"d\":\"", bad, "\"}}}"));
            String[] fields = {"event.xdm.web.page.name", "event.xdm.web.page.name", "event.data.d"};
            for (int i = 0; i < bodies.size(); i++) {
                var res = post("/ee/v2/interact?datastreamId=ds", bodies.get(i));
                assertProblem(res, hex, fields[i]);
            }
            var batch = post("/ee/v2/collect?datastreamId=ds",
                    concat("{\"events\":[{\"xdm\":{\"a\":1}},{\"xdm\":{\"s\":\"", bad, "\"}}]}"));
            assertProblem(batch, hex, "events[1].xdm.s");
        }
        assertThat(edge.exported()).as("no event of a refused request is stored").isEmpty();
    }

    private static void assertProblem(HttpResponse<String> res, String hex, String field) throws Exception {
        assertThat(res.statusCode()).as(hex + ": " + res.body()).isEqualTo(400);
        assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/problem+json"));
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.get("type").asText()).isEqualTo("https://ns.adobe.com/aep/errors/EXEG-0101-400");
        assertThat(problem.get("detail").asText()).as(hex).contains("not well-formed UTF-8").contains(field);
    }

    @Test
    void twoThreeAndFourByteCharactersAreStoredByteForByte() throws Exception {
        String common = "\"s\":\"caf\u00e9 \u20ac \ud83d\ude00\",\"\u00e9\u20ac\":{\"k\":[\"\ud83d\ude00\"]}";
        String data = "{\"d\":\"\u00e9\u20ac\ud83d\ude00\"}";
        // What of each xdm comes first in the stored text as sent (the edge's members follow it).
        String interactXdm = "{" + common + ",\"_id\":\"i-\u20ac\"";
        String collectXdm = "{" + common + ",\"_id\":\"c-\u20ac\",\"identityMap\":{\"CRMID\":[{\"id\":\"c\u00e9\",\"primary\":true}]";
        var interact = edge.postJson("/ee/v2/interact?datastreamId=ds", "{\"event\":{\"xdm\":" + interactXdm + "},\"data\":" + data + "}}");
        assertThat(interact.statusCode()).as(interact.body()).isEqualTo(200);
        var collect = edge.postJson("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":" + collectXdm + "}},\"data\":" + data + "}]}");
        assertThat(collect.statusCode()).as(collect.body()).isEqualTo(202);

        List<byte[]> stored = new ArrayList<>();
        List<byte[]> exported = new ArrayList<>();
        EventReader.forEach(dir, null, e -> {
            stored.add(e.eventJson());
            exported.add(EventRecords.toBytes(e));
        });
        assertThat(stored).hasSize(2);
        for (String sentXdm : List.of(interactXdm, collectXdm)) {
            byte[] start = ("{\"xdm\":" + sentXdm).getBytes(StandardCharsets.UTF_8);
            byte[] end = (",\"data\":" + data + "}").getBytes(StandardCharsets.UTF_8);
            byte[] event = stored.stream().filter(b -> startsWith(b, start)).findFirst().orElseThrow(() ->
                    new AssertionError("no stored event starts with " + sentXdm + " in " + texts(stored)));
            assertThat(Arrays.copyOfRange(event, event.length - end.length, event.length)).isEqualTo(end);
            byte[] line = exported.get(stored.indexOf(event));
            assertThat(indexOf(line, ("\"event\":{\"xdm\":" + sentXdm).getBytes(StandardCharsets.UTF_8))).isPositive();
        }
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        return b.length >= prefix.length && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] b, byte[] part) {
        for (int i = 0; i + part.length <= b.length; i++) {
            if (Arrays.equals(b, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> texts(List<byte[]> events) {
        return events.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }
}
