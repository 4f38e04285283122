package org.xdmedge.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The values {@link FieldPaths} reads from an object's bytes are the values its whole tree holds
 * at the same paths: strings with and without escapes, numbers, booleans, objects, array items,
 * a path inside another path's value, absent members and JSON null.
 */
class FieldPathsTest {
    private static final String OBJECT = """
            { "web": { "webPageDetails": { "URL": "https://shop.test/collections/summer/", "name": "caf\\u00e9 \\"x\\"" },
                       "webReferrer": null },
              "device": { "screenWidth": 1920, "ratio": 1.5e0, "touch": false, "type": "desktop" },
              "productListItems": [ { "SKU": "A-1", "qty": 2 }, { "SKU": "B-2", "price": { "v": 9.9 } } ],
              "0": "member named zero",
              "nested": { "a": { "b": [1, [2, 3]] } },
              "text": "Grüße" }
            """;

    private static final List<String[]> PATHS = List.of(
            p("web", "webPageDetails", "URL"), p("web", "webPageDetails", "name"), p("web", "webReferrer", "URL"),
            p("web", "webReferrer"), p("device", "screenWidth"), p("device", "ratio"), p("device", "touch"),
            p("device"), p("device", "type"), p("productListItems", "1", "SKU"), p("productListItems", "0"),
            p("productListItems", "0", "qty"), p("productListItems", "1", "price", "v"),
            p("productListItems", "7", "SKU"), p("productListItems", "SKU"), p("0"), p("nested", "a", "b", "1", "0"),
            p("nested", "a"), p("text"), p("absent"), p("device", "screenWidth", "deeper"), p("web", "webPageDetails", "URL"));

    private static String[] p(String... steps) {
        return steps;
    }

    @Test
    void theBytesGiveWhatTheTreeHolds() throws Exception {
        FieldPaths paths = FieldPaths.of(PATHS);
        byte[] body = ("{\"xdm\":" + OBJECT + "}").getBytes(StandardCharsets.UTF_8);
        int start = "{\"xdm\":".length();
        EdgeRequest.RawJson raw = new EdgeRequest.RawJson(body, start, body.length - 1);
        JsonNode tree = EdgeJson.MAPPER.readTree(OBJECT);

        JsonNode[] fromBytes = paths.in(raw);
        JsonNode[] fromTree = paths.in(tree);

        assertThat(fromBytes).hasSize(PATHS.size());
        assertThat(Arrays.asList(fromBytes)).isEqualTo(Arrays.asList(fromTree));
        assertThat(fromBytes[0].asText()).isEqualTo("https://shop.test/collections/summer/");
        assertThat(fromBytes[1].asText()).isEqualTo("café \"x\"");
        assertThat(fromBytes[2]).isNull();
        assertThat(fromBytes[3]).isNull();
        assertThat(fromBytes[4].isInt()).isTrue();
        assertThat(fromBytes[4].intValue()).isEqualTo(1920);
        assertThat(fromBytes[9].asText()).isEqualTo("B-2");
        assertThat(fromBytes[11].intValue()).isEqualTo(2);
        assertThat(fromBytes[12].doubleValue()).isEqualTo(9.9);
        assertThat(fromBytes[13]).isNull();
        assertThat(fromBytes[14]).isNull();
        assertThat(fromBytes[15].asText()).isEqualTo("member named zero");
        assertThat(fromBytes[16].intValue()).isEqualTo(2);
        assertThat(fromBytes[18].asText()).isEqualTo("Grüße");
        assertThat(fromBytes[19]).isNull();
        assertThat(fromBytes[20]).isNull();
        assertThat(fromBytes[21]).isEqualTo(fromBytes[0]);
    }

    @Test
    void aValueThatIsNotAnObjectHoldsNothingButItsItems() {
        FieldPaths paths = FieldPaths.of(List.of(p("a"), p("0")));
        for (String value : List.of("null", "\"text\"", "42")) {
            byte[] body = value.getBytes(StandardCharsets.UTF_8);
            assertThat(paths.in(new EdgeRequest.RawJson(body, 0, body.length))).containsOnlyNulls();
        }
        byte[] array = "[1,2]".getBytes(StandardCharsets.UTF_8);
        JsonNode[] items = paths.in(new EdgeRequest.RawJson(array, 0, array.length));
        assertThat(items[0]).isNull();
        assertThat(items[1].intValue()).isEqualTo(1);
    }

    @Test
    void aKeyWithAnEscapeIsReadAsTheTreeReadsIt() {
        FieldPaths paths = FieldPaths.of(List.of(p("web", "URL"), p("after")));
        byte[] body = "{\"web\":{\"U\\u0052L\":\"x\"},\"after\":[1, {\"a\" : \"}]\\\"\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        JsonNode[] values = paths.in(new EdgeRequest.RawJson(body, 0, body.length));
        assertThat(values[0].asText()).isEqualTo("x");
        assertThat(values[1].get(1).get("a").asText()).isEqualTo("}]\"");
    }

    @Test
    void theWalkStopsOnceEveryPathIsSettledAndSkipsWhatItPasses() {
        FieldPaths paths = FieldPaths.of(List.of(p("b", "c"), p("d")));
        byte[] body = "{ \"a\" : { \"s\" : \"{[\\\"\" , \"n\": [ -1.5e3 , true , null ] } , \"b\" : { \"x\" : 1 , \"c\" : 7 } , \"d\":false, \"e\": {"
                .getBytes(StandardCharsets.UTF_8); // cut short after the last path: never read
        JsonNode[] values = paths.in(new EdgeRequest.RawJson(body, 0, body.length));
        assertThat(values[0].intValue()).isEqualTo(7);
        assertThat(values[1].booleanValue()).isFalse();
    }

    @Test
    void noPathsReadNothing() {
        FieldPaths none = FieldPaths.of(List.of());
        byte[] body = OBJECT.getBytes(StandardCharsets.UTF_8);
        assertThat(none.in(new EdgeRequest.RawJson(body, 0, body.length))).isEmpty();
    }
}
