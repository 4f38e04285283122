package org.xdmedge.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.xdmedge.identity.IdentityResolver;
import org.xdmedge.protocol.AsciiRuns;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeRequest.RawJson;
import org.xdmedge.protocol.Utf8;
import org.xdmedge.quality.EdgeAdditions;

/**
 * The stored JSON of one event, {@code {"xdm":{...},"data":...}} on one line, with what the edge
 * fills in ({@code _id}, {@code timestamp}, the ECID). Reading the whole tree and writing it again
 * costs more than the rest of a small request, so when it is safe the client's own bytes are copied and our members are
 * spliced in before the xdm object's closing brace (the same member order the tree would give).
 * Otherwise the tree is completed and written as before.
 */
final class StoredEventBytes {
    private static final byte[] XDM_PREFIX = ascii("{\"xdm\":");
    private static final byte[] DATA_PREFIX = ascii(",\"data\":");
    private static final byte[] ID_MEMBER = ascii("\"_id\":\"");
    private static final byte[] TIMESTAMP_MEMBER = ascii("\"timestamp\":\"");
    private static final byte[] IDENTITY_MAP_MEMBER = ascii("\"identityMap\":{");
    private static final byte[] IDENTITY_MAP_KEY = ascii("\"identityMap\"");
    private static final byte[] ECID_ENTRY = ascii("\"" + IdentityResolver.ECID + "\":[{\"id\":\"");
    private static final byte[] ECID_STATE = ascii("\",\"authenticatedState\":\"ambiguous\",\"primary\":");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final byte[] ECID_ENTRY_END = ascii("}]");

    private StoredEventBytes() {}

    /**
     * @param addId the {@code _id} to add, or null when the event has its own
     * @param addTimestamp the {@code timestamp} to add, or null
     * @param addEcid the ECID to add to the identity map, or null
     */
    static byte[] of(EdgeEvent event, String addId, String addTimestamp, String addEcid, boolean ecidPrimary) {
        byte[] spliced = spliced(event, addId, addTimestamp, addEcid, ecidPrimary);
        return spliced != null ? spliced : reserialized(event, addId, addTimestamp, addEcid, ecidPrimary);
    }

    /** The client's bytes with our members added; null when that would not be exactly the tree's meaning. */
    static byte[] spliced(EdgeEvent event, String addId, String addTimestamp, String addEcid, boolean ecidPrimary) {
        RawJson xdm = event.rawXdm();
        RawJson data = event.rawData();
        // The ECID goes into an identity map the event already has (FPID, CRMID...), or into a new one.
        JsonNode existingMap = addEcid == null ? null : event.xdmMember("identityMap");
        if (!spliceable(event, xdm, data, addId, addTimestamp, addEcid, existingMap)) {
            return null;
        }
        Where where = where(xdm, existingMap != null);
        return where == null ? null : write(where, xdm, data, addId, addTimestamp, addEcid, ecidPrimary);
    }

    /** Whether copying the client's bytes and adding members means exactly what the tree would. */
    private static boolean spliceable(EdgeEvent event, RawJson xdm, RawJson data, String addId, String addTimestamp,
                                      String addEcid, JsonNode existingMap) {
        if (xdm == null || event.hasData() != (data != null)) {
            return false;
        }
        // A member that exists (even as null) would be replaced in the tree, but duplicated by a splice.
        if ((addId != null && event.xdmMember("_id") != null)
                || (addTimestamp != null && event.xdmMember("timestamp") != null)) {
            return false;
        }
        if (existingMap != null && !(existingMap instanceof ObjectNode map && !map.has(IdentityResolver.ECID))) {
            return false; // null or not an object: the tree replaces it; an ECID key (even []) is replaced too
        }
        if (!plain(addId) || !plain(addTimestamp) || !plain(addEcid)) {
            return false;
        }
        return oneLineUtf8(xdm) && (data == null || oneLineUtf8(data));
    }

    /**
     * Where the added members go in xdm's bytes: after {@code last}, the last byte of its content
     * ({@code empty}: it has none); with an existing identity map, the ECID entry after
     * {@code mapLast}, the map's last byte ({@code mapEmpty}: it has no member).
     */
    private record Where(int last, boolean empty, boolean intoExistingMap, int mapLast, boolean mapEmpty) {}

    /** Null when the span is not what the parser promised or the map's key is spelled with escapes. */
    private static Where where(RawJson xdm, boolean intoExistingMap) {
        byte[] body = xdm.body();
        int close = xdm.end() - 1;
        if (body[xdm.start()] != '{' || body[close] != '}') {
            return null; // never store a guess
        }
        int last = lastContent(body, close);
        int mapLast = -1;
        if (intoExistingMap) {
            int mapClose = memberObjectClose(body, xdm.start(), xdm.end(), IDENTITY_MAP_KEY);
            if (mapClose < 0) {
                return null; // not found as bytes, so not spliced
            }
            mapLast = lastContent(body, mapClose);
        }
        return new Where(last, last == xdm.start(), intoExistingMap, mapLast, intoExistingMap && body[mapLast] == '{');
    }

    private static byte[] write(Where w, RawJson xdm, RawJson data, String addId, String addTimestamp, String addEcid,
                                boolean ecidPrimary) {
        byte[] body = xdm.body();
        int size = size(w, xdm, data, addId, addTimestamp, addEcid, ecidPrimary);
        byte[] out = new byte[size];
        int at = put(out, 0, XDM_PREFIX);
        if (w.intoExistingMap()) {
            at = copy(body, xdm.start(), w.mapLast() + 1, out, at);
            if (!w.mapEmpty()) {
                out[at++] = ',';
            }
            at = ecidEntry(out, at, addEcid, ecidPrimary);
            at = copy(body, w.mapLast() + 1, w.last() + 1, out, at);
        } else {
            at = copy(body, xdm.start(), w.last() + 1, out, at);
        }
        boolean comma = !w.empty();
        if (addId != null) {
            at = member(out, at, comma, ID_MEMBER, addId);
            out[at++] = '"';
            comma = true;
        }
        if (addTimestamp != null) {
            at = member(out, at, comma, TIMESTAMP_MEMBER, addTimestamp);
            out[at++] = '"';
            comma = true;
        }
        if (addEcid != null && !w.intoExistingMap()) {
            if (comma) {
                out[at++] = ',';
            }
            at = put(out, at, IDENTITY_MAP_MEMBER);
            at = ecidEntry(out, at, addEcid, ecidPrimary);
            out[at++] = '}';
        }
        out[at++] = '}';
        if (data != null) {
            at = put(out, at, DATA_PREFIX);
            at = copy(data.body(), data.start(), data.end(), out, at);
        }
        out[at++] = '}';
        if (at != size) {
            throw new IllegalStateException("stored event size " + at + " != " + size);
        }
        return out;
    }

    /** The exact size of the spliced event, so it is written into one array. */
    private static int size(Where w, RawJson xdm, RawJson data, String addId, String addTimestamp, String addEcid,
                            boolean ecidPrimary) {
        int ecidSize = addEcid == null ? 0 : ECID_ENTRY.length + addEcid.length() + ECID_STATE.length
                + (ecidPrimary ? TRUE.length : FALSE.length) + ECID_ENTRY_END.length;
        int size = XDM_PREFIX.length + (w.last() + 1 - xdm.start()) + 1 + 1;
        int members = 0;
        if (addId != null) {
            size += ID_MEMBER.length + addId.length() + 1;
            members++;
        }
        if (addTimestamp != null) {
            size += TIMESTAMP_MEMBER.length + addTimestamp.length() + 1;
            members++;
        }
        if (w.intoExistingMap()) {
            size += ecidSize + (w.mapEmpty() ? 0 : 1);
        } else if (addEcid != null) {
            size += IDENTITY_MAP_MEMBER.length + ecidSize + 1;
            members++;
        }
        size += members > 0 ? members - (w.empty() ? 1 : 0) : 0; // commas before each added member
        if (data != null) {
            size += DATA_PREFIX.length + data.length();
        }
        return size;
    }

    private static int ecidEntry(byte[] out, int at, String ecid, boolean primary) {
        at = member(out, at, false, ECID_ENTRY, ecid);
        at = put(out, at, ECID_STATE);
        at = put(out, at, primary ? TRUE : FALSE);
        return put(out, at, ECID_ENTRY_END);
    }

    /** The last byte before {@code close} that is not a space or tab (the splice already refused CR/LF). */
    private static int lastContent(byte[] body, int close) {
        int last = close - 1;
        while (body[last] == ' ' || body[last] == '\t') {
            last--;
        }
        return last;
    }

    /**
     * The index of the closing brace of the object that is the value of the member {@code key}
     * (quoted, as bytes) of the JSON object spanning {@code [start, end)}; -1 when there is no such
     * member spelled exactly so, or its value is not an object. The span is JSON the parser has
     * already accepted; every index is still checked, so a surprise gives -1, never a wrong splice.
     */
    static int memberObjectClose(byte[] b, int start, int end, byte[] key) {
        if (start >= end || b[start] != '{') {
            return -1;
        }
        int i = start + 1;
        while (true) {
            i = skipBlank(b, i, end);
            if (i >= end || b[i] == '}') {
                return -1;
            }
            if (b[i] == ',') {
                i = skipBlank(b, i + 1, end);
            }
            int keyEnd = skipString(b, i, end);
            if (keyEnd < 0) {
                return -1;
            }
            boolean match = keyEnd - i == key.length && Arrays.equals(b, i, keyEnd, key, 0, key.length);
            i = skipBlank(b, keyEnd, end);
            if (i >= end || b[i] != ':') {
                return -1;
            }
            i = skipBlank(b, i + 1, end);
            int valueEnd = skipValue(b, i, end);
            if (valueEnd < 0) {
                return -1;
            }
            if (match) {
                return b[i] == '{' ? valueEnd - 1 : -1;
            }
            i = valueEnd;
        }
    }

    private static int skipBlank(byte[] b, int i, int end) {
        while (i < end && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
        return i;
    }

    /** The index after the string starting at {@code i}, or -1. */
    private static int skipString(byte[] b, int i, int end) {
        if (i >= end || b[i] != '"') {
            return -1;
        }
        i++;
        while (i < end) {
            byte c = b[i];
            if (c == '"') {
                return i + 1;
            }
            i += c == '\\' ? 2 : 1;
        }
        return -1;
    }

    /** The index after the value starting at {@code i}, or -1. */
    private static int skipValue(byte[] b, int i, int end) {
        if (i >= end) {
            return -1;
        }
        byte c = b[i];
        if (c == '"') {
            return skipString(b, i, end);
        }
        if (c != '{' && c != '[') {
            while (i < end && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t'
                    && b[i] != '\n' && b[i] != '\r') {
                i++;
            }
            return i;
        }
        int depth = 0;
        while (i < end) {
            c = b[i];
            if (c == '"') {
                i = skipString(b, i, end);
                if (i < 0) {
                    return -1;
                }
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
            i++;
        }
        return -1;
    }

    /** Today's path: complete the tree and write it. Mutates {@code event.xdm()}. */
    static byte[] reserialized(EdgeEvent event, String addId, String addTimestamp, String addEcid, boolean ecidPrimary) {
        ObjectNode xdm = event.xdm();
        new EdgeAdditions(addId, addTimestamp, addEcid, ecidPrimary).applyTo(xdm);
        return EdgeAdditions.storedJson(xdm, event.hasData() ? event.data() : null);
    }

    /**
     * A checked event: {@code xdm}, the tree as mapping and the edge completed it, written; then
     * the client's own bytes of {@code data} (which mapping never writes) when they can be copied,
     * else its tree written.
     */
    static byte[] written(ObjectNode xdm, EdgeEvent event) {
        RawJson data = event.rawData();
        if (!event.hasData() || data == null || !oneLineUtf8(data)) {
            return EdgeAdditions.storedJson(xdm, event.hasData() ? event.data() : null);
        }
        byte[] tree;
        try {
            tree = EdgeJson.MAPPER.writeValueAsBytes(xdm);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree could not be written", e);
        }
        byte[] out = new byte[XDM_PREFIX.length + tree.length + DATA_PREFIX.length + data.length() + 1];
        int at = put(out, 0, XDM_PREFIX);
        at = put(out, at, tree);
        at = put(out, at, DATA_PREFIX);
        at = copy(data.body(), data.start(), data.end(), out, at);
        out[at] = '}';
        return out;
    }

    private static int member(byte[] out, int at, boolean comma, byte[] name, String value) {
        if (comma) {
            out[at++] = ',';
        }
        at = put(out, at, name);
        for (int i = 0; i < value.length(); i++) {
            out[at++] = (byte) value.charAt(i);
        }
        return at;
    }

    private static int copy(byte[] from, int start, int end, byte[] out, int at) {
        System.arraycopy(from, start, out, at, end - start);
        return at + end - start;
    }

    private static int put(byte[] out, int at, byte[] bytes) {
        System.arraycopy(bytes, 0, out, at, bytes.length);
        return at + bytes.length;
    }

    /** True when the string is written by Jackson as itself, one byte a char (no escapes, ASCII). */
    private static boolean plain(String value) {
        if (value == null) {
            return true;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /**
     * Exports are one JSON line per event, so pretty-printed input is written again compactly (JSON
     * strings cannot hold raw line breaks: any CR/LF byte is whitespace). The parser decodes some
     * malformed UTF-8 (overlong forms, encoded surrogates) without complaint; copying such bytes
     * would store what writing the tree never does, so only well-formed UTF-8 is copied.
     */
    static boolean oneLineUtf8(RawJson raw) {
        if (raw.oneLineUtf8()) {
            return true; // the parser's scan already looked at every byte (JsonScan.lineBreakSeen)
        }
        byte[] b = raw.body();
        int end = raw.end();
        int i = raw.start();
        while (true) {
            i = AsciiRuns.runEnd(b, i, end, (byte) '\n', (byte) '\r', false);
            if (i >= end) {
                return true;
            }
            if (b[i] >= 0) {
                return false; // CR or LF
            }
            i = Utf8.sequenceEnd(b, i, end);
            if (i < 0) {
                return false;
            }
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
