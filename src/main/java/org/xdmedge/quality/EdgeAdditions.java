package org.xdmedge.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.xdmedge.protocol.EdgeJson;

/**
 * What the edge adds to an event's xdm before it is stored: an {@code _id} and a {@code timestamp}
 * when the event has none, the request's ECID in the identity map. Kept in a quarantine record so
 * that replay stores the event exactly as the edge would have (same {@code _id}, same time).
 * Each field is null when the edge added nothing of it.
 */
public record EdgeAdditions(String id, String timestamp, String ecid, boolean ecidPrimary) {
    /** The ECID namespace of the identity map. */
    static final String ECID = "ECID";

    /** Adds them to {@code xdm}: the same members, values and order as the edge's usual write. */
    public void applyTo(ObjectNode xdm) {
        if (id != null) {
            xdm.put("_id", id);
        }
        if (timestamp != null) {
            xdm.put("timestamp", timestamp);
        }
        if (ecid != null) {
            JsonNode map = xdm.get("identityMap");
            ObjectNode identityMap = map instanceof ObjectNode o ? o : xdm.putObject("identityMap");
            ObjectNode item = identityMap.putArray(ECID).addObject();
            item.put("id", ecid);
            item.put("authenticatedState", "ambiguous");
            item.put("primary", ecidPrimary);
        }
    }

    /** A stored event's JSON, {@code {"xdm":…,"data":…}} ({@code data} left out when null), on one line. */
    public static byte[] storedJson(ObjectNode xdm, JsonNode data) {
        ObjectNode stored = EdgeJson.MAPPER.createObjectNode();
        stored.set("xdm", xdm);
        if (data != null) {
            stored.set("data", data);
        }
        try {
            return EdgeJson.MAPPER.writeValueAsBytes(stored);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void writeTo(ObjectNode into) {
        if (id != null) {
            into.put("_id", id);
        }
        if (timestamp != null) {
            into.put("timestamp", timestamp);
        }
        if (ecid != null) {
            into.put("ecid", ecid);
            into.put("ecidPrimary", ecidPrimary);
        }
    }

    static EdgeAdditions readFrom(JsonNode from) {
        if (from == null || !from.isObject()) {
            return new EdgeAdditions(null, null, null, false);
        }
        return new EdgeAdditions(text(from, "_id"), text(from, "timestamp"), text(from, "ecid"),
                from.path("ecidPrimary").asBoolean(false));
    }

    private static String text(JsonNode node, String name) {
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v.asText();
    }
}
