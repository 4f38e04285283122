package org.xdmedge.consent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Optional;
import org.xdmedge.protocol.EdgeJson;

/**
 * The consent the edge remembers for one ECID of one organization: the decision, and the Adobe 2.0
 * preferences object the {@code consent:preferences} handle carries.
 */
public record ConsentRecord(Consent consent, ObjectNode preferences, long updatedAtMillis) {
    /** The key under which a record lives in the identity state store. */
    public static final String STATE_KEY = "consent";

    public String toJson() {
        ObjectNode node = EdgeJson.MAPPER.createObjectNode();
        node.put("general", consent.general());
        node.set("preferences", preferences);
        node.put("updatedAt", updatedAtMillis);
        return node.toString();
    }

    /** A stored record; an unreadable one counts as absent (the datastream default then applies). */
    public static Optional<ConsentRecord> fromJson(String json) {
        try {
            JsonNode node = EdgeJson.MAPPER.readTree(json);
            String general = node.path("general").asText();
            Consent consent = general.equals("in") ? Consent.IN : general.equals("out") ? Consent.OUT : null;
            if (consent == null || !node.path("preferences").isObject()) {
                return Optional.empty();
            }
            return Optional.of(new ConsentRecord(consent, (ObjectNode) node.get("preferences"),
                    node.path("updatedAt").asLong()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
