package org.xdmedge.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xdmedge.identity.IdentityResolver;
import org.xdmedge.protocol.EdgeAction;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;
import org.xdmedge.protocol.EdgeRequest.RawJson;
import org.xdmedge.protocol.EdgeRequest;
import org.xdmedge.protocol.EdgeRequestParser;
import org.xdmedge.testing.Fixtures;

/**
 * The spliced stored bytes mean exactly what writing the completed tree again means, stay on one
 * line, and are really produced (not silently the fallback) where they should be.
 */
class StoredEventBytesTest {
    private static final String ID = "0190f0b4-6b2a-7c3e-9d1f-2a3b4c5d6e7f";
    private static final String TS = "2026-11-22T07:30:00.123Z";
    private static final String ECID = "12345678901234567890123456789012345678";

    /**
     * Node equality, numbers by value: writing the tree again turns -3.25e2 (an exact BigDecimal of
     * scale 0) into -325, which reads back as an integer; the splice keeps the client's text.
     */
    private static final Comparator<JsonNode> SAME_NUMBER = (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue());
        }
        return a.equals(b) ? 0 : 1;
    };

    /** What to add, as EdgeService.toStored decides it. */
    private record Adds(String id, String ts, String ecid, boolean primary) {
        static Adds forEvent(EdgeEvent event, boolean withEcid) {
            return new Adds(event.eventId() == null ? ID : null, event.timestamp() == null ? TS : null,
                    withEcid && event.first(IdentityResolver.ECID) == null ? ECID : null,
                    event.primaryIdentity() == null);
        }
    }

    private static List<EdgeEvent> events(EdgeAction action, byte[] body) {
        return EdgeRequestParser.parse(action, body).events();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks every event of the body: spliced (when expected) is one line and equals the
     * re-serialized tree of a fresh parse. Returns how many events were spliced.
     */
    private static int check(EdgeAction action, byte[] body, boolean withEcid, boolean expectSplice) throws Exception {
        List<EdgeEvent> spliceSide = events(action, body);
        List<EdgeEvent> treeSide = events(action, body);
        int spliced = 0;
        for (int i = 0; i < spliceSide.size(); i++) {
            Adds adds = Adds.forEvent(spliceSide.get(i), withEcid);
            byte[] splice = StoredEventBytes.spliced(spliceSide.get(i), adds.id(), adds.ts(), adds.ecid(), adds.primary());
            byte[] tree = StoredEventBytes.reserialized(treeSide.get(i), adds.id(), adds.ts(), adds.ecid(), adds.primary());
            if (expectSplice) {
                assertThat(splice).as("spliced event %d of %s", i, new String(body, StandardCharsets.UTF_8)).isNotNull();
            } else {
                assertThat(splice).as("fallback expected for %s", new String(body, StandardCharsets.UTF_8)).isNull();
            }
            byte[] chosen = StoredEventBytes.of(events(action, body).get(i), adds.id(), adds.ts(), adds.ecid(), adds.primary());
            for (byte[] stored : splice == null ? List.of(tree, chosen) : List.of(splice, tree, chosen)) {
                String text = new String(stored, StandardCharsets.UTF_8);
                assertThat(text).doesNotContain("\n").doesNotContain("\r");
                JsonNode parsed = EdgeJson.MAPPER.readTree(stored); // also refuses duplicate members
                JsonNode expected = EdgeJson.MAPPER.readTree(tree);
                assertThat(parsed.equals(SAME_NUMBER, expected)).as("%s means %s", text, expected).isTrue();
            }
            if (splice != null) {
                assertThat(chosen).isEqualTo(splice);
                spliced++;
            }
        }
        return spliced;
    }

    @Test
    void seedBodies_compactSplice_prettyFallBack() throws Exception {
        for (String name : List.of("collect-two-fpid-events.json", "interact-email-sha256.json", "interact-single-event.json")) {
            EdgeAction action = name.startsWith("collect") ? EdgeAction.V2_COLLECT : EdgeAction.V2_INTERACT;
            byte[] pretty = utf8(Fixtures.seed(name));
            byte[] compact = EdgeJson.MAPPER.writeValueAsBytes(EdgeJson.MAPPER.readTree(pretty));
            check(action, pretty, false, false);
            check(action, pretty, true, false);
            assertThat(check(action, compact, false, true)).isEqualTo(events(action, compact).size());
            // These seeds have an identityMap without ECID (FPID, email): the ECID is spliced into it.
            assertThat(check(action, compact, true, true)).isEqualTo(events(action, compact).size());
            // Compact input written by our own mapper: the splice is byte for byte what writing the tree gives.
            for (int i = 0; i < events(action, compact).size(); i++) {
                EdgeEvent event = events(action, compact).get(i);
                Adds adds = Adds.forEvent(event, false);
                assertThat(new String(StoredEventBytes.spliced(event, adds.id(), adds.ts(), null, adds.primary()), StandardCharsets.UTF_8))
                        .isEqualTo(new String(StoredEventBytes.reserialized(events(action, compact).get(i), adds.id(),
                                adds.ts(), null, adds.primary()), StandardCharsets.UTF_8));
            }
        }
        // The placeholder seed is refused before anything is stored.
        assertThatThrownBy(() -> events(EdgeAction.V2_INTERACT, utf8(Fixtures.seed("interact-doc-placeholder-timestamp.json"))))
                .isInstanceOf(EdgeProblem.class);
    }

    @Test
    void handMadeBodies() throws Exception {
        String[] splices = {
                "{\"event\":{\"xdm\":{}}}",
                "{\"event\":{\"xdm\":{ \t }}}",
                "{\"event\":{\"xdm\":{   \"a\":1}}}",
                "{\"event\":{\"xdm\":{\"a\":1 ,\t\"b\":[1, 2] \t}  , \"data\" : {\"k\":\"v\"} }}",
                "{\"event\":{\"data\":[1,2.50,\"x\"],\"xdm\":{\"a\":{}}}}",
                "{\"event\":{\"xdm\":{\"_id\":\"own\",\"timestamp\":\"2021-08-09T14:09:20.859Z\"}}}",
                "{\"event\":{\"xdm\":{\"_id\":\"own\"}}}",
                "{\"event\":{\"xdm\":{\"n\":2.50,\"e\":1e5,\"E\":-1.0E-7,\"big\":123456789012345678901234567890,\"z\":0}}}",
                "{\"event\":{\"xdm\":{\"s\":\"caf\u00e9 \u2603 \ud83d\ude00\",\"esc\":\"q\\\"b\\\\s\\/n\\n\\u00e9\\ud83d\\ude00\"}}}",
                "{\"event\":{\"xdm\":{\"t\":true,\"f\":false,\"nil\":null},\"data\":\"just a string\"}}",
                "{\"event\":{\"xdm\":{},\"data\":42}}",
                "{\"event\":{\"xdm\":{},\"data\":true}}",
                "{\"event\":{\"xdm\":{},\"data\":-3.25e2}}",
                "{\"event\":{\"xdm\":{},\"data\":null}}",
                "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ECID + "\"}]}}}}",
                // an identity map without ECID gets one appended, wherever the map sits and however it is spaced
                "{\"event\":{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"c\",\"primary\":true}]}}}}",
                "{\"event\":{\"xdm\":{\"identityMap\":{}}}}",
                "{\"event\":{\"xdm\":{\"a\":1,\"identityMap\" : { \t}\t, \"b\":[{\"c\":\"}\"}]}}}",
                "{\"event\":{\"xdm\":{\"s\":\"\\\"identityMap\\\":{\",\"n\":{\"identityMap\":{\"X\":[]}},"
                        + "\"identityMap\" :{ \"FPID\" : [ {\"id\":\"f\"} ] , \"Email\":[]  },\"z\":null}}}",
                "{\"meta\":{\"state\":{}},\"event\":{\"query\":{},\"xdm\":{\"a\":\"b\"},\"data\":{}},\"query\":{}}",
                "  {\"event\":{\"xdm\":{\"a\":1}}}  ",
        };
        for (String body : splices) {
            assertThat(check(EdgeAction.V2_INTERACT, utf8(body), true, true)).isEqualTo(1);
        }
        String[] fallbacks = {
                // pretty-printed: export needs one line
                "{\"event\":{\"xdm\":{\n\"a\":1}}}",
                "{\"event\":{\"xdm\":{\"a\":1},\"data\":{\r\n\"b\":2}}}",
                // members that exist as null are replaced in the tree, they must not be duplicated
                "{\"event\":{\"xdm\":{\"_id\":null}}}",
                "{\"event\":{\"xdm\":{\"timestamp\":null}}}",
                "{\"event\":{\"xdm\":{\"identityMap\":null}}}",
                // an ECID key, even empty, is replaced in the tree
                "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[]}}}}",
                // a key spelled with an escape: its text is not its bytes, so the body is read whole, not lean
                "{\"event\":{\"xdm\":{\"identity\\u004dap\":{\"FPID\":[{\"id\":\"f\"}]}}}}",
        };
        for (String body : fallbacks) {
            check(EdgeAction.V2_INTERACT, utf8(body), true, false);
        }
        // Without an ECID to add, an identity map is no reason to fall back.
        check(EdgeAction.V2_INTERACT, utf8(fallbacks[5]), false, true);
        check(EdgeAction.V2_INTERACT, utf8(fallbacks[6]), false, false);
    }

    @Test
    void compactBodyWithEverythingAdded_isByteForByteTheTreesText() throws Exception {
        byte[] body = utf8("{\"event\":{\"xdm\":{\"a\":{\"b\":[true,null,\"\u00e9\"]}},\"data\":{\"c\":\"d\"}}}");
        for (boolean primary : List.of(true, false)) {
            byte[] splice = StoredEventBytes.spliced(events(EdgeAction.V2_INTERACT, body).get(0), ID, TS, ECID, primary);
            byte[] tree = StoredEventBytes.reserialized(events(EdgeAction.V2_INTERACT, body).get(0), ID, TS, ECID, primary);
            assertThat(new String(splice, StandardCharsets.UTF_8)).isEqualTo(new String(tree, StandardCharsets.UTF_8));
        }
        byte[] withMap = utf8("{\"event\":{\"xdm\":{\"identityMap\":{\"FPID\":[{\"id\":\"f\",\"primary\":true}]},\"a\":1}}}");
        assertThat(new String(StoredEventBytes.spliced(events(EdgeAction.V2_INTERACT, withMap).get(0), ID, TS, ECID, false), StandardCharsets.UTF_8))
                .isEqualTo(new String(StoredEventBytes.reserialized(events(EdgeAction.V2_INTERACT, withMap).get(0), ID, TS, ECID, false), StandardCharsets.UTF_8))
                .contains("{\"FPID\":[{\"id\":\"f\",\"primary\":true}],\"ECID\":[{\"id\":\"" + ECID + "\"");
        byte[] empty = utf8("{\"event\":{\"xdm\":{}}}");
        assertThat(new String(StoredEventBytes.spliced(events(EdgeAction.V2_INTERACT, empty).get(0), ID, null, null, true),
                StandardCharsets.UTF_8)).isEqualTo("{\"xdm\":{\"_id\":\"" + ID + "\"}}");
        assertThat(new String(StoredEventBytes.spliced(events(EdgeAction.V2_INTERACT, empty).get(0), null, null, null, true),
                StandardCharsets.UTF_8)).isEqualTo("{\"xdm\":{}}");
    }

    @Test
    void addedStringsThatWouldNeedEscapesFallBack() throws Exception {
        EdgeEvent event = events(EdgeAction.V2_INTERACT, utf8("{\"event\":{\"xdm\":{}}}")).get(0);
        for (String id : List.of("a\"b", "a\\b", "tab\there", "caf\u00e9")) {
            assertThat(StoredEventBytes.spliced(event, id, null, null, true)).as(id).isNull();
            assertThat(StoredEventBytes.spliced(event, null, id, null, true)).as(id).isNull();
            assertThat(StoredEventBytes.spliced(event, null, null, id, true)).as(id).isNull();
        }
        assertThat(StoredEventBytes.spliced(event, "plain-id", null, null, true)).isNotNull();
    }

    @Test
    void batchesSpliceEveryEvent_mobileRequestXdmFallsBackOnlyWhereMerged() throws Exception {
        byte[] batch = utf8("{\"events\":[{\"xdm\":{\"a\":1},\"data\":{\"d\":1}},{\"xdm\":{}},{\"data\":[],\"xdm\":{\"b\":\"c\"}}]}");
        assertThat(check(EdgeAction.V2_COLLECT, batch, false, true)).isEqualTo(3);
        assertThat(check(EdgeAction.V1_INTERACT, batch, true, true)).isEqualTo(3);
        // v1 request-level xdm merged into an event: the client's event bytes no longer say it all.
        byte[] merged = utf8("{\"xdm\":{\"device\":{\"m\":\"x\"}},\"events\":[{\"xdm\":{\"a\":1}}]}");
        check(EdgeAction.V1_INTERACT, merged, true, false);
        byte[] notMerged = utf8("{\"xdm\":{\"device\":{\"m\":\"x\"}},\"events\":[{\"xdm\":{\"device\":{\"m\":\"own\"}}}]}");
        check(EdgeAction.V1_INTERACT, notMerged, true, true);
    }

    @Test
    void utf8BomSplices_utf16FallsBack() throws Exception {
        String json = "{\"event\":{\"xdm\":{\"a\":\"caf\u00e9\"},\"data\":{\"b\":[1]}}}";
        ByteArrayOutputStream bom = new ByteArrayOutputStream();
        bom.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        bom.write(utf8(json));
        assertThat(check(EdgeAction.V2_INTERACT, bom.toByteArray(), true, true)).isEqualTo(1);
        assertRawSpans(bom.toByteArray(), "{\"a\":\"caf\u00e9\"}", "{\"b\":[1]}");

        for (var charset : List.of(StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE)) {
            byte[] body = json.getBytes(charset);
            EdgeEvent event = events(EdgeAction.V2_INTERACT, body).get(0);
            assertThat(event.rawXdm()).isNull();
            check(EdgeAction.V2_INTERACT, body, true, false);
        }
    }

    @Test
    void malformedUtf8IsNeverCopied() throws Exception {
        byte[][] malformed = {
                {(byte) 0xC0, (byte) 0xAF},                           // overlong '/'
                {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},              // overlong
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80},              // encoded surrogate U+D800
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
                {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0xAF}, // overlong
                {(byte) 0xED, (byte) 0xBF, (byte) 0xBF},              // encoded surrogate U+DFFF
                {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // lead byte above U+10FFFF
                {(byte) 0xE2, (byte) 0x82},                           // truncated before an ASCII byte
                {(byte) 0x80},                                        // continuation byte with no lead
                {(byte) 0xFF},                                        // never in UTF-8
        };
        for (byte[] bad : malformed) {
            for (String where : List.of("xdm", "data")) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                body.write(utf8(where.equals("xdm") ? "{\"event\":{\"xdm\":{\"s\":\"a" : "{\"event\":{\"xdm\":{},\"data\":\"a"));
                body.write(bad);
                body.write(utf8(where.equals("xdm") ? "b\"}}}" : "b\"}}"));
                // The parser refuses it (nothing to store); were it ever accepted, its bytes are still not copied.
                String shown = HexFormat.of().formatHex(bad) + " in " + where;
                EdgeEvent event;
                try {
                    event = events(EdgeAction.V2_INTERACT, body.toByteArray()).get(0);
                } catch (EdgeProblem refused) {
                    assertThat(refused.error()).as(shown).isEqualTo(EdgeError.INVALID_JSON);
                    assertThat(refused.fieldErrors()).as(shown).extracting(EdgeProblem.FieldError::path)
                            .containsExactly(where.equals("xdm") ? "event.xdm.s" : "event.data");
                    continue;
                }
                assertThat(StoredEventBytes.spliced(event, ID, TS, ECID, true)).as(shown).isNull();
                throw new AssertionError("accepted malformed UTF-8: " + shown);
            }
        }
        for (String good : List.of("\u0080", "\u07ff", "\u0800", "\ud7ff", "\ue000", "\uffff", "\ud800\udc00", "\udbff\udfff")) {
            byte[] body = utf8("{\"event\":{\"xdm\":{\"s\":\"" + good + "\"},\"data\":\"" + good + "\"}}");
            assertThat(check(EdgeAction.V2_INTERACT, body, true, true)).isEqualTo(1);
        }
        // Two, three and four bytes a character, stored as sent: the splice starts with the client's xdm bytes.
        String xdm = "{\"s\":\"\u00e9\u20ac\ud83d\ude00\",\"\u00e9\":[\"\ud83d\ude00\"]}";
        byte[] sent = utf8("{\"event\":{\"xdm\":" + xdm + ",\"data\":\"\u20ac\"}}");
        byte[] stored = StoredEventBytes.of(events(EdgeAction.V2_INTERACT, sent).get(0), ID, TS, ECID, true);
        byte[] prefix = utf8("{\"xdm\":" + xdm.substring(0, xdm.length() - 1) + ",\"_id\":");
        assertThat(Arrays.copyOf(stored, prefix.length)).isEqualTo(prefix);
        assertThat(new String(stored, StandardCharsets.UTF_8)).endsWith(",\"data\":\"\u20ac\"}");
    }

    @Test
    void theHandWalkBuildsTheSameTreesAsReadingTheWholeBody() throws Exception {
        String body = "{\"meta\":{\"state\":{\"entries\":[]},\"x\":[1.10,2e3]},\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}},"
                + "\"events\":[{\"xdm\":{\"n\":2.50,\"i\":7,\"big\":12345678901234567890,\"f\":1.0E+2,\"s\":\"\\u00e9\"},"
                + "\"data\":{\"d\":[0.10,{\"e\":null}]},\"query\":{\"q\":1}},{\"xdm\":{\"k\":-0.0}}],\"xdm\":{}}";
        JsonNode whole = EdgeJson.MAPPER.readTree(body);
        for (EdgeAction action : List.of(EdgeAction.V2_COLLECT, EdgeAction.V1_INTERACT)) {
            var request = EdgeRequestParser.parse(action, utf8(body));
            assertThat(request.meta()).isEqualTo(whole.get("meta"));
            assertThat(request.query()).isEqualTo(whole.get("query"));
            for (int i = 0; i < 2; i++) {
                EdgeEvent event = request.events().get(i);
                assertThat(event.xdm()).isEqualTo(whole.get("events").get(i).get("xdm"));
                assertThat(event.data()).isEqualTo(whole.get("events").get(i).get("data"));
            }
        }
        assertThat(whole.get("events").get(0).get("xdm").get("n").decimalValue().scale()).isEqualTo(2);
    }

    @Test
    void rawSpansAreExactlyTheValueText() throws Exception {
        assertRawSpans(utf8("{\"event\":{\"xdm\":{\"a\":1},\"data\":{\"b\":2}}}"), "{\"a\":1}", "{\"b\":2}");
        assertRawSpans(utf8("{ \"event\" : { \"data\" :\t\"s\\\"x\" , \"xdm\" : { } } }"), "{ }", "\"s\\\"x\"");
        assertRawSpans(utf8("{\"event\":{\"xdm\":{\"\u00e9\":\"\ud83d\ude00\"},\"data\":12.50}}"),
                "{\"\u00e9\":\"\ud83d\ude00\"}", "12.50");
        assertRawSpans(utf8("{\"event\":{\"xdm\":{\"a\":[{\"b\":{}}]},\"data\":false}}"), "{\"a\":[{\"b\":{}}]}", "false");
        assertRawSpans(utf8("{\"event\":{\"xdm\":{},\"data\":[ 1 , {} ]}}"), "{}", "[ 1 , {} ]");
        assertRawSpans(utf8("{\"event\":{\"xdm\":{},\"data\":-0.5e-3}}"), "{}", "-0.5e-3");
        byte[] batch = utf8("{\"events\":[{\"xdm\":{\"i\":0}},{\"data\":{\"d\":1},\"xdm\":{\"i\":1}}]}");
        List<EdgeEvent> events = events(EdgeAction.V2_COLLECT, batch);
        assertThat(text(events.get(0).rawXdm())).isEqualTo("{\"i\":0}");
        assertThat(events.get(0).rawData()).isNull();
        assertThat(text(events.get(1).rawXdm())).isEqualTo("{\"i\":1}");
        assertThat(text(events.get(1).rawData())).isEqualTo("{\"d\":1}");
    }

    @Test
    void brokenBodiesGiveTheSameProblemsAsReadingTheWholeTree() {
        String deep = "{\"event\":{\"xdm\":" + "[".repeat(200) + "]".repeat(200) + "}}";
        String longNumber = "{\"event\":{\"xdm\":{\"n\":" + "1".repeat(300) + "}}}";
        for (String body : List.of("{\"event\":{\"xdm\":{\"a\":1,\"a\":2}}}", "{\"event\":{\"xdm\":{}}} {}",
                "{\"event\":{\"xdm\":{}}} x", "{\"event\":{\"xdm\":{\"a\":}}}", deep, longNumber,
                "{\"events\":[{\"xdm\":{}},{\"xdm\":{\"b\":1,\"b\":1}}]}", "[1] 2")) {
            EdgeAction action = body.contains("\"events\"") ? EdgeAction.V2_COLLECT : EdgeAction.V2_INTERACT;
            assertThatThrownBy(() -> events(action, utf8(body)))
                    .as(body).isInstanceOfSatisfying(EdgeProblem.class, p -> {
                        assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON);
                        assertThat(p.detail()).isEqualTo(plainProblem(body));
                    });
        }
    }

    /** The problem detail the parser gave before it walked the body by hand. */
    private static String plainProblem(String body) {
        try {
            EdgeJson.MAPPER.readTree(utf8(body));
            return "no problem";
        } catch (StreamConstraintsException e) {
            return "The request body exceeds a JSON limit: " + e.getOriginalMessage();
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage();
            int nl = msg.indexOf('\n');
            msg = nl < 0 ? msg : msg.substring(0, nl);
            msg = msg.length() > 300 ? msg.substring(0, 300) : msg;
            return "The request body is not valid JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + msg;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertRawSpans(byte[] body, String xdm, String data) {
        EdgeEvent event = events(EdgeAction.V2_INTERACT, body).get(0);
        assertThat(text(event.rawXdm())).isEqualTo(xdm);
        assertThat(text(event.rawData())).isEqualTo(data);
    }

    private static String text(RawJson raw) {
        return new String(raw.body(), raw.start(), raw.length(), StandardCharsets.UTF_8);
    }

    @Test
    void theScanVouchesForASpanOnlyWhenNoLineBreakCameBeforeItsEnd() throws Exception {
        String xdm = "{\"s\":\"\u00e9\u20ac\",\"n\":[1, 2]}";
        String data = "{\"k\":\t\"v\"}";
        // Line breaks nowhere, only after the event, before it, inside xdm, inside data.
        String[] bodies = {
                "{\"event\":{\"xdm\":" + xdm + ",\"data\":" + data + "}}",
                "{\"event\":{\"xdm\":" + xdm + ",\"data\":" + data + "}\r\n}\n",
                "{\n\"event\":{\"xdm\":" + xdm + ",\"data\":" + data + "}}",
                "{\"event\":{\"xdm\":{\"s\":\n1},\"data\":" + data + "}}",
                "{\"event\":{\"xdm\":" + xdm + ",\"data\":{\"k\":\r\"v\"}}}",
        };
        boolean[][] vouched = {{true, true}, {true, true}, {false, false}, {false, false}, {true, false}};
        for (int i = 0; i < bodies.length; i++) {
            EdgeEvent event = events(EdgeAction.V2_INTERACT, utf8(bodies[i])).get(0);
            assertThat(event.rawXdm().oneLineUtf8()).as("xdm of body %d", i).isEqualTo(vouched[i][0]);
            assertThat(event.rawData().oneLineUtf8()).as("data of body %d", i).isEqualTo(vouched[i][1]);
            assertVouchedOnlyWhatTheByteCheckAccepts(event);
            boolean splices = i < 3; // body 2's line break is outside the spans: the byte check lets them through
            assertThat(check(EdgeAction.V2_INTERACT, utf8(bodies[i]), true, splices)).as("body %d", i).isEqualTo(splices ? 1 : 0);
        }
        for (String name : List.of("collect-two-fpid-events.json", "interact-email-sha256.json", "interact-single-event.json")) {
            EdgeAction action = name.startsWith("collect") ? EdgeAction.V2_COLLECT : EdgeAction.V2_INTERACT;
            byte[] pretty = utf8(Fixtures.seed(name));
            byte[] compact = EdgeJson.MAPPER.writeValueAsBytes(EdgeJson.MAPPER.readTree(pretty));
            for (EdgeEvent event : events(action, compact)) {
                assertThat(event.rawXdm().oneLineUtf8()).as("compact %s", name).isTrue();
                assertVouchedOnlyWhatTheByteCheckAccepts(event);
            }
            for (EdgeEvent event : events(action, pretty)) {
                assertThat(event.rawXdm().oneLineUtf8()).as("pretty %s", name).isFalse();
            }
        }
    }

    /** A span the scan vouched for is one the byte-by-byte check accepts too. */
    private static void assertVouchedOnlyWhatTheByteCheckAccepts(EdgeEvent event) {
        for (RawJson raw : Arrays.asList(event.rawXdm(), event.rawData())) {
            if (raw != null && raw.oneLineUtf8()) {
                assertThat(StoredEventBytes.oneLineUtf8(new RawJson(raw.body(), raw.start(), raw.end()))).isTrue();
            }
        }
    }

    @Test
    void lineBreaksAndNonAsciiAreFoundAtEveryOffsetOfTheWordScan() {
        byte[][] specials = {{'\n'}, {'\r'}, {(byte) 0xC3, (byte) 0xA9}, {(byte) 0xC3}, {(byte) 0xE2, (byte) 0x82, (byte) 0xAC},
                {(byte) 0xC0, (byte) 0xAF}, {(byte) 0x80}};
        boolean[] allowed = {false, false, true, false, true, false, false};
        for (int length = 0; length <= 40; length++) {
            for (int at = 0; at <= length; at++) {
                for (int k = 0; k < specials.length; k++) {
                    for (int start = 0; start <= 3; start++) {
                        byte[] text = new byte[start + length + specials[k].length];
                        Arrays.fill(text, (byte) 'a');
                        System.arraycopy(specials[k], 0, text, start + at, specials[k].length);
                        var raw = new EdgeRequest.RawJson(text, start, text.length);
                        assertThat(StoredEventBytes.oneLineUtf8(raw))
                                .as("special %d at %d of %d from %d", k, at, length, start).isEqualTo(allowed[k]);
                    }
                }
            }
            byte[] plain = new byte[length];
            Arrays.fill(plain, (byte) '{');
            assertThat(StoredEventBytes.oneLineUtf8(new EdgeRequest.RawJson(plain, 0, length))).isTrue();
        }
    }
}
