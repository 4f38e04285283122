package org.xdmedge.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.xdmedge.identity.IdentityResolver;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;
import org.xdmedge.protocol.EdgeRequest.RawJson;

/**
 * The stored JSON of one event, {@code {"xdm":{...},"data":...}} on one line, with what the edge
 * fills in ({@code _id}, {@code timestamp}, the ECID). Writing the Jackson tree again was a sixth of
 * the event loop's time, so when it is safe the client's own bytes are copied and our members are
 * spliced in before the xdm object's closing brace (the same member order the tree would give).
 * Otherwise the tree is completed and written as before.
 */
final class StoredEventBytes {
    private static final byte[] XDM_PREFIX = ascii("{\"xdm\":");
    private static final byte[] DATA_PREFIX = ascii(",\"data\":");
    private static final byte[] ID_MEMBER = ascii("\"_id\":\"");
    private static final byte[] TIMESTAMP_MEMBER = ascii("\"timestamp\":\"");
    private static final byte[] ECID_MEMBER = ascii("\"identityMap\":{\"" + IdentityResolver.ECID + "\":[{\"id\":\"");
    private static final byte[] ECID_STATE = ascii("\",\"authenticatedState\":\"ambiguous\",\"primary\":");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final byte[] ECID_END = ascii("}]}");

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
        if (xdm == null || (event.data() != null && data == null) || (event.data() == null && data != null)) {
            return null;
        }
        ObjectNode tree = event.xdm();
        // A member that exists (even as null) would be replaced in the tree, but duplicated by a splice.
        if ((addId != null && tree.has("_id")) || (addTimestamp != null && tree.has("timestamp"))
                || (addEcid != null && tree.has("identityMap"))) {
            return null;
        }
        if (!plain(addId) || !plain(addTimestamp) || !plain(addEcid)) {
            return null;
        }
        if (!oneLineUtf8(xdm) || (data != null && !oneLineUtf8(data))) {
            return null;
        }
        byte[] body = xdm.body();
        int close = xdm.end() - 1;
        if (body[xdm.start()] != '{' || body[close] != '}') {
            return null; // not the span the parser promised; never store a guess
        }
        int last = close - 1; // last byte of the xdm content before the closing brace, whitespace dropped
        while (body[last] == ' ' || body[last] == '\t') {
            last--;
        }
        boolean empty = last == xdm.start();
        boolean adding = addId != null || addTimestamp != null || addEcid != null;

        int size = XDM_PREFIX.length + (last + 1 - xdm.start()) + 1 + 1;
        int members = 0;
        if (addId != null) {
            size += ID_MEMBER.length + addId.length() + 1;
            members++;
        }
        if (addTimestamp != null) {
            size += TIMESTAMP_MEMBER.length + addTimestamp.length() + 1;
            members++;
        }
        if (addEcid != null) {
            size += ECID_MEMBER.length + addEcid.length() + ECID_STATE.length
                    + (ecidPrimary ? TRUE.length : FALSE.length) + ECID_END.length;
            members++;
        }
        size += adding ? members - (empty ? 1 : 0) : 0; // commas before each added member
        if (data != null) {
            size += DATA_PREFIX.length + data.length();
        }

        byte[] out = new byte[size];
        int at = put(out, 0, XDM_PREFIX);
        System.arraycopy(body, xdm.start(), out, at, last + 1 - xdm.start());
        at += last + 1 - xdm.start();
        boolean comma = !empty;
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
        if (addEcid != null) {
            at = member(out, at, comma, ECID_MEMBER, addEcid);
            at = put(out, at, ECID_STATE);
            at = put(out, at, ecidPrimary ? TRUE : FALSE);
            at = put(out, at, ECID_END);
        }
        out[at++] = '}';
        if (data != null) {
            at = put(out, at, DATA_PREFIX);
            System.arraycopy(data.body(), data.start(), out, at, data.length());
            at += data.length();
        }
        out[at++] = '}';
        if (at != size) {
            throw new IllegalStateException("stored event size " + at + " != " + size);
        }
        return out;
    }

    /** Today's path: complete the tree and write it. Mutates {@code event.xdm()}. */
    static byte[] reserialized(EdgeEvent event, String addId, String addTimestamp, String addEcid, boolean ecidPrimary) {
        ObjectNode xdm = event.xdm();
        if (addId != null) {
            xdm.put("_id", addId);
        }
        if (addTimestamp != null) {
            xdm.put("timestamp", addTimestamp);
        }
        if (addEcid != null) {
            JsonNode map = xdm.get("identityMap");
            ObjectNode identityMap = map instanceof ObjectNode o ? o : xdm.putObject("identityMap");
            ObjectNode item = identityMap.putArray(IdentityResolver.ECID).addObject();
            item.put("id", addEcid);
            item.put("authenticatedState", "ambiguous");
            item.put("primary", ecidPrimary);
        }
        ObjectNode stored = EdgeJson.MAPPER.createObjectNode();
        stored.set("xdm", xdm);
        if (event.data() != null) {
            stored.set("data", event.data());
        }
        try {
            return EdgeJson.MAPPER.writeValueAsBytes(stored);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long LOW_BITS = 0x0101010101010101L;
    private static final long LF_BYTES = LOW_BITS * '\n';
    private static final long CR_BYTES = LOW_BITS * '\r';

    /** True when some byte of {@code word} is zero (exact, no false positives). */
    private static boolean hasZeroByte(long word) {
        return ((word - LOW_BITS) & ~word & HIGH_BITS) != 0;
    }

    /**
     * Exports are one JSON line per event, so pretty-printed input is written again compactly (JSON
     * strings cannot hold raw line breaks: any CR/LF byte is whitespace). The parser decodes some
     * malformed UTF-8 (overlong forms, encoded surrogates) without complaint; copying such bytes
     * would store what writing the tree never does, so only well-formed UTF-8 is copied.
     */
    static boolean oneLineUtf8(RawJson raw) {
        byte[] b = raw.body();
        int end = raw.end();
        int i = raw.start();
        while (i < end) {
            // Eight bytes at a time while they are ASCII without CR or LF (nearly all of an event).
            while (i + 8 <= end) {
                long word = (long) LONGS.get(b, i);
                if ((word & HIGH_BITS) != 0 || hasZeroByte(word ^ LF_BYTES) || hasZeroByte(word ^ CR_BYTES)) {
                    break;
                }
                i += 8;
            }
            if (i >= end) {
                break;
            }
            int c = b[i++];
            if (c >= 0) {
                if (c == '\n' || c == '\r') {
                    return false;
                }
                continue;
            }
            c &= 0xff;
            int more;
            int lo = 0x80;
            int hi = 0xbf;
            if (c >= 0xc2 && c <= 0xdf) {
                more = 1;
            } else if (c >= 0xe0 && c <= 0xef) {
                more = 2;
                if (c == 0xe0) {
                    lo = 0xa0; // overlong
                } else if (c == 0xed) {
                    hi = 0x9f; // UTF-16 surrogates
                }
            } else if (c >= 0xf0 && c <= 0xf4) {
                more = 3;
                if (c == 0xf0) {
                    lo = 0x90; // overlong
                } else if (c == 0xf4) {
                    hi = 0x8f; // above U+10FFFF
                }
            } else {
                return false;
            }
            if (i + more > end) {
                return false;
            }
            int second = b[i] & 0xff;
            if (second < lo || second > hi) {
                return false;
            }
            for (int k = 1; k < more; k++) {
                if ((b[i + k] & 0xc0) != 0x80) {
                    return false;
                }
            }
            i += more;
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}
