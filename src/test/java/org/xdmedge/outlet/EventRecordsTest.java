package org.xdmedge.outlet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.xdmedge.protocol.EdgeJson;

/** The record written field by field is byte for byte what Jackson's generator writes for it. */
class EventRecordsTest {
    @Test
    void plainValuesAreWrittenAsTheGeneratorWritesThem() throws Exception {
        StoredEvent e = new StoredEvent("req-1", "shop", "web-events", 1_767_607_200_123L, "ev-1", "FPID", "abc",
                "{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"},\"data\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8));
        assertThat(new String(EventRecords.toBytes(e), StandardCharsets.UTF_8)).isEqualTo(generated(e));
    }

    @Test
    void quotesControlsNonAsciiAndNullsAreEscapedAsTheGeneratorEscapesThem() throws Exception {
        StoredEvent e = new StoredEvent("r\"q\\1\n\t\u0001\u007f", "shöp/€", null, 0L, "ev-😀", null, "id\u2028x",
                "{\"xdm\":{\"name\":\"Zoë \\\"q\\\" 😀\"}}".getBytes(StandardCharsets.UTF_8));
        byte[] written = EventRecords.toBytes(e);
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(generated(e));
        assertThat(EdgeJson.MAPPER.readTree(written).path("requestId").asText()).isEqualTo(e.requestId());
    }

    /** The record as a Jackson generator writes it, the event's JSON as a raw value. */
    private static String generated(StoredEvent e) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = EdgeJson.MAPPER.getFactory().createGenerator(out)) {
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
        return out.toString(StandardCharsets.UTF_8);
    }
}
