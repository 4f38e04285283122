package org.xdmedge.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;

/**
 * A parsed and validated request body. {@code events} holds one event for v2 interact and the
 * batch otherwise (none for set-consent and acquire); {@code requestIdentities} are the request-level
 * identities (v1 {@code xdm.identityMap}, set-consent {@code identityMap}); {@code meta} and {@code query} are kept whole for the services that read them.
 */
public record EdgeRequest(EdgeAction action, List<EdgeEvent> events, List<IdentityItem> requestIdentities,
                          List<String> identityFetch,
                          List<StateEntry> stateEntries, ObjectNode query, ObjectNode meta, JsonNode consent) {

    /**
     * One event. {@code xdm} is the event's own object (mutable: the pipeline fills in {@code _id},
     * {@code timestamp} and the ECID); {@code data} may be null. {@code rawXdm} and {@code rawData}
     * are the client's own UTF-8 bytes of those values, so they can be stored without writing the
     * trees again; null when not available (other encodings, merged request-level xdm, ...).
     */
    public record EdgeEvent(int index, ObjectNode xdm, JsonNode data, List<IdentityItem> identities,
                            String eventId, Instant timestamp, RawJson rawXdm, RawJson rawData) {
        public EdgeEvent(int index, ObjectNode xdm, JsonNode data, List<IdentityItem> identities,
                         String eventId, Instant timestamp) {
            this(index, xdm, data, identities, eventId, timestamp, null, null);
        }

        public IdentityItem primaryIdentity() {
            for (IdentityItem item : identities) {
                if (item.primary()) {
                    return item;
                }
            }
            return null;
        }

        public IdentityItem first(String namespace) {
            for (IdentityItem item : identities) {
                if (item.namespace().equals(namespace)) {
                    return item;
                }
            }
            return null;
        }
    }

    /**
     * The exact text of one JSON value inside a UTF-8 request body: {@code body[start, end)}. The
     * body array is shared, never copied; it must not be changed.
     */
    public record RawJson(byte[] body, int start, int end) {
        public int length() {
            return end - start;
        }
    }

    /** One entry of an {@code identityMap} namespace list. */
    public record IdentityItem(String namespace, String id, boolean primary, String authenticatedState) {}

    /** One {@code meta.state.entries} item: a {@code kndctr_*} name and its value. */
    public record StateEntry(String key, String value) {}
}
