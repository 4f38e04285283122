package org.xdmedge.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A parsed and validated request body. {@code events} holds one event for v2 interact and the
 * batch otherwise (none for set-consent and acquire); {@code requestIdentities} are the request-level
 * identities (v1 {@code xdm.identityMap}, set-consent {@code identityMap}); {@code meta} and {@code query} are kept whole for the services that read them.
 */
public record EdgeRequest(EdgeAction action, List<EdgeEvent> events, List<IdentityItem> requestIdentities,
                          List<String> identityFetch,
                          List<StateEntry> stateEntries, ObjectNode query, ObjectNode meta, JsonNode consent) {

    /**
     * One event. {@code xdm()} is the event's own object (mutable: the pipeline may fill in
     * {@code _id}, {@code timestamp} and the ECID); {@code data()} may be null. {@code rawXdm} and
     * {@code rawData} are the client's own UTF-8 bytes of those values, so they can be stored
     * without writing the trees again; null when not available (other encodings, merged
     * request-level xdm, ...).
     *
     * <p>Events read from a UTF-8 body are kept <em>lean</em>: only the xdm members the edge reads
     * ({@link #LEAN_MEMBERS}) are trees, and the whole {@code xdm} and {@code data} trees are built
     * from the raw bytes the first time they are asked for. Building every event's tree was the
     * largest part of parsing a batch, and the stored bytes are the client's own.
     */
    public static final class EdgeEvent {
        /** The xdm members a lean event holds as trees: what the pipeline reads of every event. */
        public static final Set<String> LEAN_MEMBERS = Set.of("_id", "timestamp", "identityMap");

        private final int index;
        /** Null until first asked for, when lean. */
        private ObjectNode xdm;
        /** The lean members (a subset of xdm's), or null when xdm is a whole tree from the start. */
        private final ObjectNode leanMembers;
        private JsonNode data;
        private final boolean hasData;
        private final List<IdentityItem> identities;
        private final String eventId;
        private final Instant timestamp;
        private final RawJson rawXdm;
        private final RawJson rawData;
        /** The event's own {@code query} object (alloy's {@code query.personalization}), or null. */
        private ObjectNode query;

        public EdgeEvent(int index, ObjectNode xdm, JsonNode data, List<IdentityItem> identities,
                         String eventId, Instant timestamp, RawJson rawXdm, RawJson rawData) {
            this(index, xdm, null, data, data != null, identities, eventId, timestamp, rawXdm, rawData);
        }

        public EdgeEvent(int index, ObjectNode xdm, JsonNode data, List<IdentityItem> identities,
                         String eventId, Instant timestamp) {
            this(index, xdm, data, identities, eventId, timestamp, null, null);
        }

        private EdgeEvent(int index, ObjectNode xdm, ObjectNode leanMembers, JsonNode data, boolean hasData,
                          List<IdentityItem> identities, String eventId, Instant timestamp, RawJson rawXdm,
                          RawJson rawData) {
            this.index = index;
            this.xdm = xdm;
            this.leanMembers = leanMembers;
            this.data = data;
            this.hasData = hasData;
            this.identities = identities;
            this.eventId = eventId;
            this.timestamp = timestamp;
            this.rawXdm = rawXdm;
            this.rawData = rawData;
        }

        /**
         * A lean event: {@code members} holds xdm's {@link #LEAN_MEMBERS} (those it has), and the
         * trees of {@code rawXdm} and of {@code rawData} (null: no data) are read when asked for.
         */
        static EdgeEvent lean(int index, ObjectNode members, RawJson rawXdm, RawJson rawData,
                              List<IdentityItem> identities, String eventId, Instant timestamp) {
            return new EdgeEvent(index, null, members, null, rawData != null, identities, eventId, timestamp,
                    rawXdm, rawData);
        }

        public int index() {
            return index;
        }

        /** The event's own {@code query} object, or null when it has none. */
        public ObjectNode query() {
            return query;
        }

        EdgeEvent withQuery(ObjectNode eventQuery) {
            this.query = eventQuery;
            return this;
        }

        /** The whole xdm object (built from the raw bytes on first use when lean). */
        public ObjectNode xdm() {
            if (xdm == null) {
                xdm = (ObjectNode) rawXdm.tree();
            }
            return xdm;
        }

        /**
         * A top-level member of xdm, null when absent ({@code NullNode} when sent as null), without
         * building the whole tree when it is one of {@link #LEAN_MEMBERS}.
         */
        public JsonNode xdmMember(String name) {
            if (xdm == null && LEAN_MEMBERS.contains(name)) {
                return leanMembers.get(name);
            }
            return xdm().get(name);
        }

        /** The event's data, null when it has none (built from the raw bytes on first use when lean). */
        public JsonNode data() {
            if (data == null && hasData) {
                data = rawData.tree();
            }
            return data;
        }

        /**
         * The values at {@code paths} in xdm (null where absent or null), read from the raw bytes
         * without building the whole tree when the event is lean and its tree not yet built.
         */
        public JsonNode[] xdmValues(FieldPaths paths) {
            return xdm == null ? paths.in(rawXdm) : paths.in(xdm);
        }

        /** As {@link #xdmValues}, in the event's data (all null when it has none). */
        public JsonNode[] dataValues(FieldPaths paths) {
            if (data == null) {
                return hasData ? paths.in(rawData) : new JsonNode[paths.size()];
            }
            return paths.in(data);
        }

        public boolean hasData() {
            return hasData;
        }

        public List<IdentityItem> identities() {
            return identities;
        }

        public String eventId() {
            return eventId;
        }

        public Instant timestamp() {
            return timestamp;
        }

        public RawJson rawXdm() {
            return rawXdm;
        }

        public RawJson rawData() {
            return rawData;
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
     * body array is shared, never copied; it must not be changed. {@code oneLineUtf8}: the parser's
     * scan vouched that the text is well-formed UTF-8 without a line break (false: not known).
     */
    public record RawJson(byte[] body, int start, int end, boolean oneLineUtf8) {
        public RawJson(byte[] body, int start, int end) {
            this(body, start, end, false);
        }

        public int length() {
            return end - start;
        }

        /**
         * The value read as a tree with the edge's mapper. The span is one the parser accepted, so
         * this cannot fail but for a bug.
         */
        public JsonNode tree() {
            try {
                return EdgeJson.MAPPER.readTree(body, start, end - start);
            } catch (IOException e) {
                throw new UncheckedIOException("an accepted value could not be read again", e);
            }
        }
    }

    /** One entry of an {@code identityMap} namespace list. */
    public record IdentityItem(String namespace, String id, boolean primary, String authenticatedState) {}

    /** One {@code meta.state.entries} item: a {@code kndctr_*} name and its value. */
    public record StateEntry(String key, String value) {}
}
