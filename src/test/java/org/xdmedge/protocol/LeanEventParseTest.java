package org.xdmedge.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;

/**
 * Events are read lean (only _id, timestamp and identityMap of xdm become trees; the rest is
 * skipped and kept as bytes). These tests hold the lean reading to what reading the whole body
 * as a tree accepts, refuses and builds.
 */
class LeanEventParseTest {
    private static final String BATCH = "{\"events\":[{\"xdm\":{\"_id\":\"x\",\"web\":{\"page\":{\"name\":\"h\u00e9llo\","
            + "\"n\":[1,2.50,-0.0,1e3,{\"k\":\"v\\\"\\u00e9\"}]}},\"identityMap\":{\"FPID\":[{\"id\":\"f\",\"primary\":true}]},"
            + "\"timestamp\":\"2026-12-01T10:00:00Z\"},\"data\":{\"a\":\"\u20ac\",\"b\":[true,null,{}]}},"
            + "{\"xdm\":{\"s\":\"a\ud83d\ude00b\",\"t\":[[[]]],\"identityMap\":{\"ECID\":[{\"id\":\"e\"}]}},\"data\":\"z\u00e9\"}]}";
    private static final String INTERACT = "{\"event\":{\"xdm\":{\"s\":\"a\u00e9b\",\"t\":{\"u\":\"\ud83d\ude00\"}},"
            + "\"data\":12.50,\"query\":{\"q\":[1]}},\"meta\":{\"state\":{\"entries\":[]}}}";

    @Test
    void mutatedBodiesAreAcceptedExactlyWhenTheWholeTreeReaderAcceptsThem() throws Exception {
        byte[] alphabet = "\"{}[],:\\ 0e\u00e9".getBytes(StandardCharsets.UTF_8);
        Random random = new Random(20261201);
        int accepted = 0;
        int refused = 0;
        for (String body : new String[] {BATCH, INTERACT}) {
            byte[] base = body.getBytes(StandardCharsets.UTF_8);
            EdgeAction action = body == BATCH ? EdgeAction.V2_COLLECT : EdgeAction.V2_INTERACT;
            for (int round = 0; round < 15_000; round++) {
                byte[] mutated = base.clone();
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    mutated[random.nextInt(mutated.length)] = random.nextBoolean() ? (byte) random.nextInt(256)
                            : alphabet[random.nextInt(alphabet.length)];
                }
                JsonNode whole = wellFormedUtf8(mutated) ? treeOrNull(mutated) : null; // else the mapper would alter the text
                EdgeRequest request = null;
                EdgeProblem problem = null;
                try {
                    request = EdgeRequestParser.parse(action, mutated);
                } catch (EdgeProblem p) {
                    problem = p;
                }
                String shown = new String(mutated, StandardCharsets.ISO_8859_1);
                if (whole == null) {
                    assertThat(problem).as("refused by the tree reader or a strict UTF-8 decoder: %s", shown).isNotNull();
                    assertThat(problem.error()).as(shown).isEqualTo(EdgeError.INVALID_JSON);
                    refused++;
                    continue;
                }
                if (problem != null) {
                    assertThat(problem.error()).as("valid JSON is never refused as invalid JSON: %s", shown)
                            .isNotEqualTo(EdgeError.INVALID_JSON);
                    continue;
                }
                accepted++;
                for (EdgeEvent event : request.events()) {
                    JsonNode sent = action == EdgeAction.V2_INTERACT ? whole.get("event")
                            : whole.get("events").get(event.index());
                    assertThat(event.xdm()).as(shown).isEqualTo(sent.get("xdm"));
                    JsonNode data = sent.get("data");
                    assertThat(event.data()).as(shown).isEqualTo(data == null || data.isNull() ? null : data);
                    for (String member : EdgeEvent.LEAN_MEMBERS) {
                        assertThat(event.xdmMember(member)).as(shown).isEqualTo(sent.get("xdm").get(member));
                    }
                }
            }
        }
        assertThat(accepted).as("the mutations leave some bodies valid").isGreaterThan(1000);
        assertThat(refused).as("and make others invalid").isGreaterThan(1000);
    }

    @Test
    void theScanAgreesWithTheMapperOnEveryTokenAndReadsLeanWhatItAccepts() throws Exception {
        String[] values = {"0", "-0", "1.5e-3", "12E+2", "-0.0", "01", "1.", ".5", "-", "+1", "1e", "1e+", "0x1", "NaN",
                "Infinity", "true", "tru", "truex", "false", "fals", "null", "nul", "\"\"", "\"a\\\"b\"", "\"\\u00e9\"",
                "\"\\u00g9\"", "\"\\x\"", "\"\\/\\b\\f\\n\\r\\t\"", "\"tab\there\"", "\"caf\u00e9 \ud83d\ude00\"",
                "[]", "[1,]", "[,1]", "[1 2]", "{}", "{,}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":}", "{1:2}", "[[[]]]",
                "{\"a\":[{\"b\":{\"c\":[null,true,-1.25e10]}}]}", "\"\u007f\"", " 1 ", "\t[\n1\r]"};
        int lean = 0;
        for (String value : values) {
            for (String body : new String[] {"{\"event\":{\"xdm\":{\"w\":" + value + "},\"data\":{\"d\":" + value + "}}}",
                    "{\"event\":{\"xdm\":{\"identityMap\":{\"X\":[{\"id\":" + value + "}]}}}}",
                    "{\"event\":{\"xdm\":{}},\"meta\":" + value + "}"}) {
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                boolean valid = treeOrNull(bytes) != null;
                try {
                    EdgeEvent event = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, bytes).events().get(0);
                    assertThat(valid).as("accepted only if the mapper accepts: %s", body).isTrue();
                    assertThat(event.rawXdm()).as("read lean: %s", body).isNotNull();
                    lean++;
                } catch (EdgeProblem p) {
                    if (p.error() == EdgeError.INVALID_JSON) {
                        assertThat(valid).as("refused as JSON only if the mapper refuses: %s", body).isFalse();
                    } else {
                        assertThat(valid).as(body).isTrue(); // valid JSON, wrong field (an id that is not a string)
                    }
                }
            }
        }
        assertThat(lean).as("bodies accepted").isGreaterThanOrEqualTo(28);
    }

    @Test
    void aStringsSpecialBytesAreFoundAtEveryOffsetOfTheScansEightByteWords() throws Exception {
        // The scan reads strings eight bytes at a time: each byte that ends plain text (a quote, an
        // escape, a control character, the first byte of a UTF-8 sequence) at every offset of the
        // word, near the end of the body too, is judged as the mapper judges it.
        String[] specials = {"\"", "\\n", "\u0001", "\u001f", "\t", "\u00e9", "\u20ac", "\u007f", " ", "\\u0041"};
        int lean = 0;
        int refused = 0;
        for (String special : specials) {
            for (int offset = 0; offset < 19; offset++) {
                String text = "a".repeat(offset) + special + "b".repeat(19 - offset);
                for (String body : new String[] {"{\"event\":{\"xdm\":{\"s\":\"" + text + "\"}}}",
                        "{\"event\":{\"xdm\":{\"" + text + "\":1}}}", "{\"event\":{\"xdm\":{\"s\":\"" + text + "\"}}}   "}) {
                    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                    JsonNode whole = treeOrNull(bytes);
                    EdgeEvent event;
                    try {
                        event = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, bytes).events().get(0);
                    } catch (EdgeProblem p) {
                        assertThat(whole).as("refused only what the mapper refuses: %s", body).isNull();
                        assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON);
                        refused++;
                        continue;
                    }
                    assertThat(whole).as("accepted only what the mapper accepts: %s", body).isNotNull();
                    assertThat(event.xdm()).as(body).isEqualTo(whole.get("event").get("xdm"));
                    if (event.rawXdm() != null) {
                        lean++;
                    }
                }
            }
        }
        assertThat(refused).as("a raw quote or control character in a string").isGreaterThan(100);
        assertThat(lean).as("the rest read lean, escaped keys aside").isGreaterThan(250);
    }

    @Test
    void whatTheScanIsNotSureOfIsReadWholeByTheMapper() throws Exception {
        StringBuilder wide = new StringBuilder("{");
        for (int i = 0; i < 300; i++) {
            wide.append(i == 0 ? "" : ",").append("\"eVar").append(i).append("\":\"v\"");
        }
        String many = wide + "}";
        byte[] bom = ("\uFEFF{\"event\":{\"xdm\":{\"a\":\"caf\u00e9\"}}}").getBytes(StandardCharsets.UTF_8);
        // Read lean: a BOM, hundreds of keys in one object (the scan's hash table), escapes in values.
        for (byte[] body : new byte[][] {bom, utf8("{\"event\":{\"xdm\":{\"e\":" + many + "},\"data\":" + many + "}}"),
                utf8("{\"event\":{\"xdm\":{\"s\":\"\\u0041\\n\\\"\"}}}")}) {
            assertThat(EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body).events().get(0).rawXdm())
                    .as(new String(body, StandardCharsets.UTF_8)).isNotNull();
        }
        // Read whole: a key spelled with an escape, a key longer than the scan takes, UTF-16.
        String longKey = "k".repeat(JsonScan.MAX_KEY_BYTES + 1);
        byte[] surrogate = utf8("{\"event\":{\"xdm\":{\"s\":\"a?b\"}}}");
        int at = new String(surrogate, StandardCharsets.ISO_8859_1).indexOf('?');
        byte[] withSurrogate = new byte[surrogate.length + 2];
        System.arraycopy(surrogate, 0, withSurrogate, 0, at);
        withSurrogate[at] = (byte) 0xED;
        withSurrogate[at + 1] = (byte) 0xA0;
        withSurrogate[at + 2] = (byte) 0x80;
        System.arraycopy(surrogate, at + 1, withSurrogate, at + 3, surrogate.length - at - 1);
        for (byte[] body : new byte[][] {utf8("{\"event\":{\"xdm\":{\"\\u0061\":1}}}"),
                utf8("{\"event\":{\"xdm\":{\"" + longKey + "\":1}}}"),
                "{\"event\":{\"xdm\":{\"a\":1}}}".getBytes(StandardCharsets.UTF_16BE)}) {
            JsonNode whole = EdgeJson.MAPPER.readTree(body);
            EdgeEvent event = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body).events().get(0);
            assertThat(event.rawXdm()).isNull();
            assertThat(event.xdm()).isEqualTo(whole.get("event").get("xdm"));
        }
        // UTF-8 the mapper decodes but that is not well formed (an encoded surrogate) is refused, not read whole.
        assertThatThrownBy(() -> EdgeRequestParser.parse(EdgeAction.V2_INTERACT, withSurrogate))
                .isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON));
        // A key sent twice among hundreds is still refused.
        String twice = many.substring(0, many.length() - 1) + ",\"eVar150\":\"w\"}";
        assertThatThrownBy(() -> EdgeRequestParser.parse(EdgeAction.V2_INTERACT,
                utf8("{\"event\":{\"xdm\":{\"e\":" + twice + "}}}")))
                .isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON));
    }

    /** Malformed UTF-8 the mapper decodes or refuses: either way it is not what a client can mean. */
    static final int[][] MALFORMED = {
            {0xC0, 0xAF}, {0xC1, 0xBF}, {0xE0, 0x80, 0xAF}, {0xE0, 0x9F, 0xBF}, {0xF0, 0x80, 0x80, 0xAF},
            {0xF0, 0x8F, 0xBF, 0xBF},                               // overlong
            {0xED, 0xA0, 0x80}, {0xED, 0xBF, 0xBF},                 // encoded surrogates
            {0xF4, 0x90, 0x80, 0x80}, {0xF5, 0x80, 0x80, 0x80}, {0xF7, 0xBF, 0xBF, 0xBF}, // above U+10FFFF
            {0xE2, 0x82}, {0xC3}, {0xF0, 0x9F, 0x98},               // truncated (before 'b' or the quote)
            {0x80}, {0xBF}, {0xA9, 0xA9},                           // continuation bytes with no lead
            {0xF8, 0x88, 0x80, 0x80, 0x80}, {0xFE}, {0xFF},         // bytes UTF-8 never uses
    };

    @Test
    void malformedUtf8IsRefusedWhereverItIsAndTheFieldIsNamed() {
        // {where it goes, the field named}: skipped strings and keys, the decoded lean members, other members.
        String[][] places = {
                {"{\"event\":{\"xdm\":{\"w\":{\"s\":\"a#b\"}}}}", "event.xdm.w.s"},
                {"{\"event\":{\"xdm\":{\"w\":{\"s\":\"a#\"}}}}", "event.xdm.w.s"},
                {"{\"event\":{\"xdm\":{\"w\":[\"#\"]}}}", "event.xdm.w[0]"},
                {"{\"event\":{\"xdm\":{},\"data\":{\"d\":[1,\"#\"]}}}", "event.data.d[1]"},
                {"{\"event\":{\"xdm\":{},\"data\":\"#\"}}", "event.data"},
                {"{\"event\":{\"xdm\":{\"_id\":\"a#\"}}}", "event.xdm._id"},
                {"{\"event\":{\"xdm\":{\"identityMap\":{\"FPID\":[{\"id\":\"#b\"}]}}}}", "event.xdm.identityMap.FPID[0].id"},
                {"{\"event\":{\"xdm\":{\"w\":{\"k#\":1}}}}", "event.xdm.w"},
                {"{\"event\":{\"xdm\":{\"#\":1}}}", "event.xdm"},
                {"{\"#\":1,\"event\":{\"xdm\":{}}}", "$"},
                {"{\"event\":{\"xdm\":{}},\"meta\":{\"m\":\"#\"}}", "meta.m"},
                {"{\"events\":[{\"xdm\":{}},{\"xdm\":{\"s\":\"\u00e9#\"}}]}", "events[1].xdm.s"},
                {"{\"events\":[{\"xdm\":{\"\\u0061\":1}},{\"xdm\":{\"s\":\"#\"}}]}", "events[1].xdm.s"}, // read whole
                {"{\"event\":{\"xdm\":{\"s\":\"#", null}, // the body ends in it
                {"{\"event\":{\"xdm\":{}}}#", null},         // outside any string
        };
        for (int[] sequence : MALFORMED) {
            for (String[] place : places) {
                byte[] body = withBytes(place[0], sequence);
                String shown = new String(body, StandardCharsets.ISO_8859_1);
                assertThat(wellFormedUtf8(body)).as(shown).isFalse();
                EdgeAction action = place[0].contains("\"events\"") ? EdgeAction.V2_COLLECT : EdgeAction.V2_INTERACT;
                assertThatThrownBy(() -> EdgeRequestParser.parse(action, body)).as(shown)
                        .isInstanceOfSatisfying(EdgeProblem.class, p -> {
                            assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON);
                            if (place[1] != null) {
                                assertThat(p.fieldErrors()).extracting(EdgeProblem.FieldError::path).containsExactly(place[1]);
                                assertThat(p.detail()).contains("not well-formed UTF-8").contains(place[1]);
                            }
                        });
            }
        }
    }

    @Test
    void wellFormedMultiByteTextIsReadLeanAsTheMapperReadsIt() throws Exception {
        // é, €, 😀 and the edges of each length: the last before a surrogate, the first after, U+10FFFF.
        for (String text : new String[] {"\u00e9", "\u20ac", "\ud83d\ude00", "\u0080", "\u07ff", "\u0800", "\ud7ff",
                "\ue000", "\uffff", "\ud800\udc00", "\udbff\udfff"}) {
            byte[] body = utf8("{\"event\":{\"xdm\":{\"_id\":\"" + text + "\",\"" + text + "\":{\"s\":\"a" + text + "\"}},"
                    + "\"data\":[\"" + text + "\"]},\"meta\":{\"" + text + "\":\"" + text + "\"}}");
            EdgeRequest request = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body);
            JsonNode whole = EdgeJson.MAPPER.readTree(body);
            EdgeEvent event = request.events().get(0);
            assertThat(event.rawXdm()).as(text).isNotNull();
            assertThat(event.eventId()).isEqualTo(text);
            assertThat(event.xdm()).isEqualTo(whole.get("event").get("xdm"));
            assertThat(event.data()).isEqualTo(whole.get("event").get("data"));
            assertThat(request.meta()).isEqualTo(whole.get("meta"));
        }
    }

    /** {@code template} in UTF-8 with its {@code #} replaced by {@code bytes}. */
    static byte[] withBytes(String template, int[] bytes) {
        byte[] text = utf8(template);
        int at = 0;
        while (text[at] != '#') {
            at++;
        }
        byte[] out = new byte[text.length - 1 + bytes.length];
        System.arraycopy(text, 0, out, 0, at);
        for (int i = 0; i < bytes.length; i++) {
            out[at + i] = (byte) bytes[i];
        }
        System.arraycopy(text, at + 1, out, at + bytes.length, text.length - at - 1);
        return out;
    }

    /** The whole-tree reader's tree of {@code body}, or null if it refuses it. */
    private static JsonNode treeOrNull(byte[] body) {
        try {
            return EdgeJson.MAPPER.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether a strict decoder (malformed input reported, not replaced) reads {@code bytes} as UTF-8. */
    static boolean wellFormedUtf8(byte[] bytes) {
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        return !strict.decode(ByteBuffer.wrap(bytes), out, true).isError() && !strict.flush(out).isError();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theLeanMembersAreWhatTheSetNamesSpelledExactly() {
        EdgeEvent exact = EdgeEvents.parse("{\"event\":{\"xdm\":{\"_id\":\"a\",\"timestamp\":\"2026-12-01T10:00:00Z\","
                + "\"identityMap\":{\"FPID\":[{\"id\":\"f\"}]}}}}");
        assertThat(exact.rawXdm()).isNotNull();
        assertThat(exact.eventId()).isEqualTo("a");
        assertThat(exact.timestamp()).isNotNull();
        assertThat(exact.identities()).hasSize(1);
        for (String member : EdgeEvent.LEAN_MEMBERS) {
            assertThat(exact.xdmMember(member)).as(member).isNotNull();
        }
        // Names that differ in case, a byte or a space are not lean members (else these values would be refused).
        EdgeEvent near = EdgeEvents.parse("{\"event\":{\"xdm\":{\"_ID\":1,\"id\":2,\"Timestamp\":\"bad\",\"timestamp \":3,"
                + "\"identitymap\":4,\"identityMaps\":5,\"\":6}}}");
        assertThat(near.rawXdm()).isNotNull();
        assertThat(near.eventId()).isNull();
        assertThat(near.timestamp()).isNull();
        assertThat(near.identities()).isEmpty();
        assertThat(near.xdm().size()).isEqualTo(7);
    }

    @Test
    void aKeySentTwiceIsRefusedInsideSkippedValuesOfAnySize() {
        StringBuilder wide = new StringBuilder("{");
        for (int i = 0; i < 40; i++) {
            wide.append("\"k").append(i).append("\":").append(i).append(',');
        }
        String many = wide + "\"k0\":1}"; // past the short scan: the set finds it
        String manyDistinct = wide + "\"last\":1}";
        for (String value : new String[] {many, "[{\"a\":1},{\"a\":1,\"b\":2,\"a\":3}]", "{\"a\":{\"b\":{\"c\":1,\"c\":2}}}"}) {
            String inXdm = "{\"event\":{\"xdm\":{\"w\":" + value + "}}}";
            String inData = "{\"event\":{\"xdm\":{},\"data\":" + value + "}}";
            for (String body : new String[] {inXdm, inData}) {
                assertThatThrownBy(() -> EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body.getBytes(StandardCharsets.UTF_8)))
                        .as(body).isInstanceOfSatisfying(EdgeProblem.class,
                                p -> assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON));
            }
        }
        // Keys may repeat in different objects, and siblings' keys are theirs alone.
        String fine = "{\"event\":{\"xdm\":{\"w\":" + manyDistinct + ",\"v\":[{\"a\":1},{\"a\":2}],\"a\":{\"a\":{\"a\":1}}},"
                + "\"data\":{\"k0\":" + manyDistinct + "}}}";
        EdgeEvent event = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, fine.getBytes(StandardCharsets.UTF_8)).events().get(0);
        assertThat(event.xdm().get("w").size()).isEqualTo(41);
        assertThat(event.data().get("k0").size()).isEqualTo(41);
        // Keys are told apart by length and first eight bytes, then by the rest: names that share
        // their first eight bytes, names that are prefixes of others, the empty name, and names in
        // the body's last eight bytes (no whole word to read there).
        for (String keys : new String[] {"\"identityMapA\":1,\"identityMapB\":2", "\"ab\":1,\"abc\":2,\"a\":3",
                "\"\":1,\"a\":2", "\"abcdefgh\":1,\"abcdefghi\":2"}) {
            String body = "{\"event\":{\"xdm\":{\"w\":{" + keys + "}},\"data\":{" + keys + "}}}";
            assertThat(EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body.getBytes(StandardCharsets.UTF_8))
                    .events().get(0).rawXdm()).as(body).isNotNull();
        }
        for (String body : new String[] {"{\"event\":{\"xdm\":{\"w\":{\"identityMapA\":1,\"identityMapA\":2}}}}",
                "{\"event\":{\"xdm\":{\"w\":{\"abcdefgh\":1,\"abcdefgh\":2}}}}", "{\"event\":{\"xdm\":{\"w\":{\"\":1,\"\":2}}}}",
                "{\"event\":{\"xdm\":{},\"data\":{\"a\":1,\"a\":2}}}", "{\"event\":{\"xdm\":{},\"data\":{\"b\":1,\"ab\":2,\"b\":3}}}"}) {
            assertThatThrownBy(() -> EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body.getBytes(StandardCharsets.UTF_8)))
                    .as(body).isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON));
        }
        assertThat(EdgeRequestParser.parse(EdgeAction.V2_INTERACT, "{\"event\":{\"xdm\":{},\"data\":{\"a\":1,\"b\":2}}}"
                .getBytes(StandardCharsets.UTF_8)).events().get(0).data()).hasSize(2);
        // "Aa" and "BB" share a String hash: the scan compares the names, not only their hashes.
        assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
        String sameHash = "{\"event\":{\"xdm\":{\"w\":{\"Aa\":1,\"BB\":2}},\"data\":{\"Aa\":1,\"BB\":2}}}";
        EdgeEvent colliding = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, sameHash.getBytes(StandardCharsets.UTF_8)).events().get(0);
        assertThat(colliding.xdm().get("w").size()).isEqualTo(2);
        String sameHashTwice = "{\"event\":{\"xdm\":{\"w\":{\"Aa\":1,\"BB\":2,\"Aa\":3}}}}";
        assertThatThrownBy(() -> EdgeRequestParser.parse(EdgeAction.V2_INTERACT, sameHashTwice.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON));
    }

    @Test
    void theMappersLimitsHoldInsideSkippedValues() {
        String digits = "1".repeat(EdgeJson.MAPPER.getFactory().streamReadConstraints().getMaxNumberLength() + 1);
        String deep = "[".repeat(EdgeJson.MAX_NESTING_DEPTH + 1) + "]".repeat(EdgeJson.MAX_NESTING_DEPTH + 1);
        for (String value : new String[] {digits, "-" + digits + "e5", "[1." + digits + "]", "{\"n\":" + digits + "}", deep}) {
            for (String body : new String[] {"{\"event\":{\"xdm\":{\"w\":" + value + "}}}",
                    "{\"event\":{\"xdm\":{},\"data\":" + value + "}}"}) {
                assertThatThrownBy(() -> EdgeEvents.parse(body)).as(body.length() > 200 ? body.substring(0, 200) : body)
                        .isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON));
            }
        }
    }

    /** Parsing one interact body. */
    private static final class EdgeEvents {
        static EdgeEvent parse(String body) {
            return EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body.getBytes(StandardCharsets.UTF_8)).events().get(0);
        }
    }

    @Test
    void aLeanEventBuildsItsTreesOnlyWhenAskedAndKeepsTheClientsBytes() {
        byte[] body = INTERACT.getBytes(StandardCharsets.UTF_8);
        EdgeEvent event = EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body).events().get(0);
        assertThat(event.hasData()).isTrue();
        assertThat(event.rawXdm().body()).isSameAs(body);
        assertThat(new String(body, event.rawData().start(), event.rawData().length(), StandardCharsets.UTF_8)).isEqualTo("12.50");
        assertThat(event.data().decimalValue().scale()).isEqualTo(2);
        assertThat(event.xdmMember("_id")).isNull();
        event.xdm().put("_id", "filled-in");
        assertThat(event.xdmMember("_id").asText()).as("after the tree is built, it is the one read").isEqualTo("filled-in");
    }
}
