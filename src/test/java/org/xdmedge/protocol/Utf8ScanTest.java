package org.xdmedge.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The scan's UTF-8 check, held to the JDK's strict decoder (malformed input reported, not
 * replaced) over every sequence of one to three bytes and the four-byte ones of interest: a
 * string of those bytes is accepted by the scan exactly when the decoder reads them, and
 * {@link Utf8#firstMalformed} (what the whole-body path checks) agrees.
 */
class Utf8ScanTest {
    /** Byte values where a rule of UTF-8 (or of JSON strings) changes. */
    private static final int[] EDGES = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xF4, 0xFF};

    private final CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final CharBuffer chars = CharBuffer.allocate(8);
    private int accepted;
    private int refused;

    @Test
    void everySequenceOfOneOrTwoBytesAndOfThreeFromEveryLead() {
        for (int a = 0; a < 256; a++) {
            check(a);
            for (int b = 0; b < 256; b++) {
                check(a, b);
                // After an ASCII byte or a continuation byte the rest is the two-byte case again.
                for (int c = 0; a >= 0xC0 && c < 256; c++) {
                    check(a, b, c);
                }
                for (int c : EDGES) {
                    check(a, b, c);
                }
            }
        }
        assertThat(accepted).as("well-formed sequences").isGreaterThan(60_000);
        assertThat(refused).as("malformed ones").isGreaterThan(1_000_000);
    }

    @Test
    void fourByteSequencesAroundEveryLeadAndItsLimits() {
        // Every four-byte lead and some others; of the three bytes after it, one runs through all
        // 256 values while the other two take the values where a rule changes.
        int[] leads = {0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xFF};
        for (int a : leads) {
            for (int all = 0; all < 256; all++) {
                for (int x : EDGES) {
                    for (int y : EDGES) {
                        check(a, all, x, y);
                        check(a, x, all, y);
                        check(a, x, y, all);
                    }
                }
            }
        }
        assertThat(accepted).as("well-formed sequences").isGreaterThan(10_000);
        assertThat(refused).as("malformed ones").isGreaterThan(1_000_000);
    }

    @Test
    void theWholeBodyReaderAgreesOnEveryTwoByteSequence() {
        // The parser as a whole: the scan's refusals go to the path that reads the body whole, which
        // must refuse the same malformed bytes (with the field named) and accept the rest.
        for (int a = 0x80; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                byte[] sequence = {(byte) a, (byte) b};
                if (!jsonNeutral(sequence)) {
                    continue;
                }
                byte[] body = LeanEventParseTest.withBytes("{\"event\":{\"xdm\":{\"w\":{\"s\":\"#\"}}}}", new int[] {a, b});
                boolean wellFormed = decodes(sequence);
                try {
                    EdgeRequestParser.parse(EdgeAction.V2_INTERACT, body);
                    assertThat(wellFormed).as(HexFormat.of().formatHex(sequence)).isTrue();
                } catch (EdgeProblem p) {
                    assertThat(wellFormed).as(HexFormat.of().formatHex(sequence)).isFalse();
                    assertThat(p.error()).isEqualTo(EdgeError.INVALID_JSON);
                    assertThat(p.fieldErrors()).extracting(EdgeProblem.FieldError::path).containsExactly("event.xdm.w.s");
                }
            }
        }
    }

    private void check(int... bytes) {
        byte[] sequence = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            sequence[i] = (byte) bytes[i];
        }
        if (!jsonNeutral(sequence)) {
            return; // a quote, backslash or control character is JSON's to judge, not UTF-8's
        }
        byte[] string = new byte[sequence.length + 2];
        string[0] = '"';
        System.arraycopy(sequence, 0, string, 1, sequence.length);
        string[string.length - 1] = '"';
        boolean wellFormed = decodes(sequence);
        // Compared by hand: millions of checks, and a message is only needed for a difference.
        if (scanAccepts(string) != wellFormed || (Utf8.firstMalformed(sequence, 0, sequence.length) < 0) != wellFormed) {
            assertThat(scanAccepts(string)).as("scan of %s", HexFormat.of().formatHex(sequence)).isEqualTo(wellFormed);
            assertThat(Utf8.firstMalformed(sequence, 0, sequence.length) < 0)
                    .as("firstMalformed of %s", HexFormat.of().formatHex(sequence)).isEqualTo(wellFormed);
        }
        if (wellFormed) {
            accepted++;
        } else {
            refused++;
        }
    }

    private static boolean jsonNeutral(byte[] sequence) {
        for (byte b : sequence) {
            if ((b >= 0 && b < 0x20) || b == '"' || b == '\\') {
                return false;
            }
        }
        return true;
    }

    private boolean decodes(byte[] sequence) {
        strict.reset();
        chars.clear();
        return !strict.decode(ByteBuffer.wrap(sequence), chars, true).isError() && !strict.flush(chars).isError();
    }

    private static boolean scanAccepts(byte[] string) {
        JsonScan scan = new JsonScan(string, 0);
        try {
            scan.skipValue();
            scan.endOfBody();
            return true;
        } catch (JsonScan.Refused e) {
            return false;
        }
    }
}
