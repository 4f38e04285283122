package org.xdmedge.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A strict JSON scanner over a UTF-8 body, for the lean walk of {@link EdgeRequestParser}: it
 * finds where each value ends without building it, checking the grammar and every object's keys
 * for duplicates. Jackson's tokenizer decodes every value it skips; this reads the same bytes in a
 * few tight loops (docs/PERFORMANCE.md gives the measured difference).
 *
 * <p>It may be stricter than the mapper, never looser: whatever it is not sure the mapper reads the
 * same way it refuses ({@link Refused}), and the body is then read whole by Jackson, which accepts
 * it or names the error. So it refuses UTF-8 that is not well formed (overlong forms, surrogates,
 * beyond U+10FFFF, truncated; the mapper decodes some of these as other text, so the whole-body path
 * refuses them too: {@link MalformedUtf8}), keys with escapes (their text is not their bytes) or longer than
 * {@link #MAX_KEY_BYTES}, numbers longer than the mapper's limit counted in all their characters,
 * and nesting deeper than the mapper's.
 */
final class JsonScan {
    /** Far above any XDM field name, far below the mapper's name limit. */
    static final int MAX_KEY_BYTES = 1024;
    private static final int MAX_NUMBER_CHARS =
            EdgeJson.MAPPER.getFactory().streamReadConstraints().getMaxNumberLength();
    private static final int MAX_DEPTH = EdgeJson.MAX_NESTING_DEPTH;
    /** Objects up to this many keys are checked by a scan; larger ones get a hash table. */
    private static final int SCAN_LIMIT = 16;

    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

    /** Thrown where the scan gives up on a body; it carries nothing, so one instance serves. */
    static final class Refused extends Exception {
        static final Refused INSTANCE = new Refused();

        private Refused() {
            super("not read lean", null, false, false);
        }
    }

    private final byte[] b;
    private final int end;
    private int pos;
    private int depth;
    /** Per depth: the index in the key stack where the open object's keys start; arrays: items so far. */
    private final int[] base = new int[MAX_DEPTH + 2];
    private final int[] items = new int[MAX_DEPTH + 2];
    private final int[][] tables = new int[MAX_DEPTH + 2][];
    private int[] keyStart = new int[64];
    private int[] keyLength = new int[64];
    private int[] keyHash = new int[64];
    private int keys;

    /** See {@link #lineBreakSeen()}. */
    private boolean lineBreakSeen;

    /** A scan of {@code body} from {@code start} (after a byte order mark, say) to its end. */
    JsonScan(byte[] body, int start) {
        this.b = body;
        this.end = body.length;
        this.pos = start;
    }

    int position() {
        return pos;
    }

    /** The next byte after whitespace, or -1 at the end of the body. */
    int peek() {
        skipWhitespace();
        return pos < end ? b[pos] & 0xff : -1;
    }

    /** Opens the object that must come next. */
    void beginObject() throws Refused {
        if (peek() != '{') {
            throw Refused.INSTANCE;
        }
        pos++;
        openObject();
    }

    /** Whether the open object has another member; false consumes its closing brace. */
    boolean nextMember() throws Refused {
        int c = peek();
        if (c == '}') {
            pos++;
            keys = base[depth];
            depth--;
            return false;
        }
        if (keys != base[depth]) {
            if (c != ',') {
                throw Refused.INSTANCE;
            }
            pos++;
            c = peek();
        }
        if (c != '"') {
            throw Refused.INSTANCE;
        }
        return true;
    }

    /** Reads the member's key (checked against the object's others) and its colon; returns the key. */
    String key() throws Refused {
        int start = pos + 1;
        readKey(); // leaves pos after the closing quote
        String name = new String(b, start, pos - 1 - start, StandardCharsets.UTF_8);
        colon();
        return name;
    }

    /**
     * As {@link #key()}, for a walk that only needs to know whether the key is one of {@code names}
     * (ASCII, so a name's chars are its bytes): that name, or null. No string is made.
     */
    String keyAmong(String[] names) throws Refused {
        int start = pos + 1;
        readKey();
        int length = pos - 1 - start;
        String found = null;
        for (int n = 0; n < names.length && found == null; n++) {
            if (names[n].length() == length && spells(start, names[n])) {
                found = names[n];
            }
        }
        colon();
        return found;
    }

    private boolean spells(int start, String asciiName) {
        for (int i = 0; i < asciiName.length(); i++) {
            if (b[start + i] != asciiName.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Opens the array that must come next. */
    void beginArray() throws Refused {
        if (peek() != '[') {
            throw Refused.INSTANCE;
        }
        pos++;
        open();
        items[depth] = 0;
    }

    /** Whether the open array has another item; false consumes its closing bracket. */
    boolean nextItem() throws Refused {
        int c = peek();
        if (c == ']') {
            pos++;
            depth--;
            return false;
        }
        if (items[depth]++ > 0) {
            if (c != ',') {
                throw Refused.INSTANCE;
            }
            pos++;
            peek();
        }
        return true;
    }

    /** Skips the value that must come next, checking all of it. */
    void skipValue() throws Refused {
        int c = peek();
        switch (c) {
            case '{' -> {
                pos++;
                openObject();
                object();
            }
            case '[' -> {
                pos++;
                open();
                array();
            }
            case '"' -> string();
            case 't' -> literal(TRUE);
            case 'f' -> literal(FALSE);
            case 'n' -> literal(NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    number();
                } else {
                    throw Refused.INSTANCE;
                }
            }
        }
    }

    /** After the root value: nothing but whitespace may follow. */
    void endOfBody() throws Refused {
        if (peek() != -1 || depth != 0) {
            throw Refused.INSTANCE;
        }
    }

    private void openObject() throws Refused {
        open();
        base[depth] = keys;
    }

    private void open() throws Refused {
        if (++depth > MAX_DEPTH) {
            throw Refused.INSTANCE;
        }
    }

    /** The members of an object whose brace was consumed, through its closing brace. */
    private void object() throws Refused {
        int c = peek();
        if (c == '}') {
            pos++;
            depth--;
            return;
        }
        while (true) {
            if (c != '"') {
                throw Refused.INSTANCE;
            }
            readKey();
            colon();
            skipValue();
            c = peek();
            if (c == ',') {
                pos++;
                c = peek();
            } else if (c == '}') {
                pos++;
                keys = base[depth];
                depth--;
                return;
            } else {
                throw Refused.INSTANCE;
            }
        }
    }

    /** The items of an array whose bracket was consumed, through its closing bracket. */
    private void array() throws Refused {
        if (peek() == ']') {
            pos++;
            depth--;
            return;
        }
        while (true) {
            skipValue();
            int c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                depth--;
                return;
            } else {
                throw Refused.INSTANCE;
            }
        }
    }

    private void colon() throws Refused {
        if (peek() != ':') {
            throw Refused.INSTANCE;
        }
        pos++;
    }

    private void skipWhitespace() {
        final byte[] b = this.b;
        int i = pos;
        while (i < end) {
            byte c = b[i];
            if (c == '\n' || c == '\r') {
                lineBreakSeen = true;
            } else if (c != ' ' && c != '\t') {
                break;
            }
            i++;
        }
        pos = i;
    }

    /**
     * Whether whitespace so far held a CR or LF. Until it does, everything scanned is on one line
     * (a string cannot hold a raw line break: the scan refuses control characters in strings) and
     * well-formed UTF-8 (the scan refuses anything else), so the spans taken from it need no
     * second look before they are stored as one line ({@code StoredEventBytes}).
     */
    boolean lineBreakSeen() {
        return lineBreakSeen;
    }

    private void literal(byte[] word) throws Refused {
        if (pos + word.length > end || !Arrays.equals(b, pos, pos + word.length, word, 0, word.length)) {
            throw Refused.INSTANCE;
        }
        pos += word.length;
    }

    private void number() throws Refused {
        final byte[] b = this.b;
        int start = pos;
        int i = start;
        if (b[i] == '-') {
            i++;
        }
        if (i >= end) {
            throw Refused.INSTANCE;
        }
        if (b[i] == '0') {
            i++;
        } else if (b[i] >= '1' && b[i] <= '9') {
            i = digits(i + 1);
        } else {
            throw Refused.INSTANCE;
        }
        if (i < end && b[i] == '.') {
            int first = i + 1;
            i = digits(first);
            if (i == first) {
                throw Refused.INSTANCE;
            }
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int first = i;
            i = digits(first);
            if (i == first) {
                throw Refused.INSTANCE;
            }
            while (first < i - 1 && b[first] == '0') {
                first++;
            }
            if (i - first > 9) { // an exponent no decimal may hold: the mapper names it
                throw Refused.INSTANCE;
            }
        }
        if (i - start > MAX_NUMBER_CHARS) {
            throw Refused.INSTANCE;
        }
        pos = i;
    }

    private int digits(int i) {
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
        return i;
    }

    /** A string value, through its closing quote. */
    private void string() throws Refused {
        pos = closingQuote(pos + 1, true) + 1;
    }

    /**
     * The index of the quote that ends the string whose text starts at {@code i}; refused at a
     * control character, malformed UTF-8, a bad escape, or any escape if not {@code escapes}.
     */
    private int closingQuote(int i, boolean escapes) throws Refused {
        final byte[] b = this.b;
        final int end = this.end;
        while (true) {
            i = AsciiRuns.runEnd(b, i, end, (byte) '"', (byte) '\\', true);
            if (i >= end) {
                throw Refused.INSTANCE;
            }
            int c = b[i];
            if (c == '"') {
                return i;
            }
            if (c == '\\' && escapes) {
                i = escape(i + 1);
            } else if (c < 0) {
                i = utf8(i);
            } else {
                throw Refused.INSTANCE; // a control character (JSON wants it escaped), or an escape in a key
            }
        }
    }

    /** The escape after a backslash at {@code i - 1}; returns the index after it. */
    private int escape(int i) throws Refused {
        if (i >= end) {
            throw Refused.INSTANCE;
        }
        switch (b[i]) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> {
                return i + 1;
            }
            case 'u' -> {
                if (i + 5 > end) {
                    throw Refused.INSTANCE;
                }
                for (int k = i + 1; k <= i + 4; k++) {
                    int h = b[k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
                        throw Refused.INSTANCE;
                    }
                }
                return i + 5;
            }
            default -> throw Refused.INSTANCE;
        }
    }

    /** A well-formed multi-byte UTF-8 sequence at {@code i}; returns the index after it. */
    private int utf8(int i) throws Refused {
        int next = Utf8.sequenceEnd(b, i, end);
        if (next < 0) {
            throw Refused.INSTANCE;
        }
        return next;
    }

    /** A key at {@code pos} (its opening quote), through its closing quote; refused if the object has it already. */
    private void readKey() throws Refused {
        int start = pos + 1;
        // A key with an escape is refused: its text is not its bytes, which the duplicate check compares.
        int i = closingQuote(start, false);
        int length = i - start;
        if (length > MAX_KEY_BYTES) {
            throw Refused.INSTANCE;
        }
        pos = i + 1;
        addKey(start, length);
    }

    /**
     * Adds a key to the open object's, refusing one it has: a short object's keys are compared by
     * length and then bytes; from {@link #SCAN_LIMIT} keys on, they are hashed into a table.
     */
    private void addKey(int start, int length) throws Refused {
        int first = base[depth];
        int count = keys - first;
        int hash = 0;
        if (count < SCAN_LIMIT) {
            for (int k = first; k < keys; k++) {
                if (keyLength[k] == length && sameBytes(keyStart[k], start, length)) {
                    throw Refused.INSTANCE;
                }
            }
        } else {
            int[] table = tables[depth];
            if (count == SCAN_LIMIT || table == null || count * 2 >= table.length) {
                table = rebuildTable(first, count);
            }
            hash = hash(start, length);
            int mask = table.length - 1;
            for (int slot = mix(hash) & mask; ; slot = (slot + 1) & mask) {
                int k = table[slot] - 1;
                if (k < 0) {
                    table[slot] = keys + 1;
                    break;
                }
                if (keyHash[k] == hash && keyLength[k] == length && sameBytes(keyStart[k], start, length)) {
                    throw Refused.INSTANCE;
                }
            }
        }
        if (keys == keyStart.length) {
            keyStart = Arrays.copyOf(keyStart, keys * 2);
            keyLength = Arrays.copyOf(keyLength, keys * 2);
            keyHash = Arrays.copyOf(keyHash, keys * 2);
        }
        keyStart[keys] = start;
        keyLength[keys] = length;
        keyHash[keys] = hash; // only read once the object has a table, which hashes its first keys itself
        keys++;
    }

    /** A table for the open object's keys so far (indexes + 1, hashed now), with room for as many again. */
    private int[] rebuildTable(int first, int count) {
        int size = Integer.highestOneBit(count * 4);
        int[] table = tables[depth];
        if (table == null || table.length < size) {
            table = tables[depth] = new int[size];
        } else {
            Arrays.fill(table, 0);
        }
        int mask = table.length - 1;
        for (int k = first; k < first + count; k++) {
            keyHash[k] = hash(keyStart[k], keyLength[k]);
            int slot = mix(keyHash[k]) & mask;
            while (table[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            table[slot] = k + 1;
        }
        return table;
    }

    private int hash(int start, int length) {
        int h = 0;
        for (int i = start; i < start + length; i++) {
            h = 31 * h + b[i];
        }
        return h;
    }

    private static int mix(int hash) {
        int h = hash * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    private boolean sameBytes(int a, int c, int length) {
        if (length > 16) {
            return Arrays.equals(b, a, a + length, b, c, c + length);
        }
        for (int i = 0; i < length; i++) { // field names are short: a loop beats the intrinsic's set-up
            if (b[a + i] != b[c + i]) {
                return false;
            }
        }
        return true;
    }
}
