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

    public static void write(StoredEvent e, OutputStream out) throws IOException {
        try (JsonGenerator g = EdgeJson.MAPPER.getFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("requestId", e.requestId());
            g.writeStringField("datastreamId", e.datastreamId());
            g.writeStringField("dataset", e.dataset());
            g.writeStringField("receivedAt", Instant.ofEpochMilli(e.receivedAtMillis()).toString());
            g.writeStringField("eventId", e.eventId());
            g.writeObjectFieldStart("primaryIdentity");
            g.writeStringField("namespace", e.primaryNamespace());
            g.writeStringField("id", e.primaryId());
            g.writeEndObject();
            g.writeFieldName("event");
            g.writeRawValue(new String(e.eventJson(), StandardCharsets.UTF_8));
            g.writeEndObject();
        }
    }

    public static byte[] toBytes(StoredEvent e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(e.eventJson().length + 256);
        try {
            write(e, out);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }
}
