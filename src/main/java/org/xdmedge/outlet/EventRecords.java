package org.xdmedge.outlet;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.xdmedge.protocol.EdgeJson;

/**
 * The one JSON shape of a stored event outside the edge: an {@code export} line, and the value of a
 * Kafka record. {@code {"requestId", "datastreamId", "dataset", "receivedAt", "eventId",
 * "primaryIdentity": {"namespace", "id"}, "event": {"xdm", "data"}}}.
 */
public final class EventRecords {
    private EventRecords() {}

    private static final byte[] REQUEST_ID = ascii("{\"requestId\":");
    private static final byte[] DATASTREAM_ID = ascii(",\"datastreamId\":");
    private static final byte[] DATASET = ascii(",\"dataset\":");
    private static final byte[] RECEIVED_AT = ascii(",\"receivedAt\":");
    private static final byte[] EVENT_ID = ascii(",\"eventId\":");
    private static final byte[] NAMESPACE = ascii(",\"primaryIdentity\":{\"namespace\":");
    private static final byte[] ID = ascii(",\"id\":");
    private static final byte[] EVENT = ascii("},\"event\":");
    private static final byte[] NULL = ascii("null");

    /**
     * Writes the record as a JSON generator would, field by field, with the stored event's bytes
     * copied as they are: no generator, and no decoding and encoding of the event again.
     */
    public static void write(StoredEvent e, OutputStream out) throws IOException {
        out.write(REQUEST_ID);
        string(e.requestId(), out);
        out.write(DATASTREAM_ID);
        string(e.datastreamId(), out);
        out.write(DATASET);
        string(e.dataset(), out);
        out.write(RECEIVED_AT);
        string(Instant.ofEpochMilli(e.receivedAtMillis()).toString(), out);
        out.write(EVENT_ID);
        string(e.eventId(), out);
        out.write(NAMESPACE);
        string(e.primaryNamespace(), out);
        out.write(ID);
        string(e.primaryId(), out);
        out.write(EVENT);
        out.write(e.eventJson());
        out.write('}');
    }

    /** A JSON string: ASCII text without quotes or controls as it is, any other through Jackson's generator. */
    private static void string(String s, OutputStream out) throws IOException {
        if (s == null) {
            out.write(NULL);
        } else if (plainAscii(s)) {
            out.write('"');
            out.write(s.getBytes(StandardCharsets.ISO_8859_1));
            out.write('"');
        } else {
            try (JsonGenerator g = EdgeJson.MAPPER.getFactory().createGenerator(out)) {
                g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                g.writeString(s);
            }
        }
    }

    private static boolean plainAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] toBytes(StoredEvent e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(e.eventJson().length + 320);
        try {
            write(e, out);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }
}
