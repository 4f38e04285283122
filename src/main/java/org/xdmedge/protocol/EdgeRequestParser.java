package org.xdmedge.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xdmedge.protocol.EdgeProblem.FieldError;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;
import org.xdmedge.protocol.EdgeRequest.IdentityItem;
import org.xdmedge.protocol.EdgeRequest.RawJson;
import org.xdmedge.protocol.EdgeRequest.StateEntry;

/**
 * Turns a request body into an {@link EdgeRequest}, or an {@link EdgeProblem} listing every field
 * that is wrong. Unknown fields are ignored, never rejected.
 */
public final class EdgeRequestParser {
    /**
     * Skipped strings are not held to the mapper's string length limit, so bodies that could hold
     * a longer one are read whole (and refused by it) instead of lean.
     */
    private static final int LEAN_MAX_BODY = EdgeJson.MAPPER.getFactory().streamReadConstraints().getMaxStringLength();
    private static final String[] LEAN_NAMES = EdgeEvent.LEAN_MEMBERS.toArray(String[]::new);
    private static final Set<String> AUTH_STATES = Set.of("ambiguous", "authenticated", "loggedOut");
    /** Far above any real client; bounds the work one request can ask for. */
    public static final int MAX_EVENTS = 1000;

    private EdgeRequestParser() {}

    public static EdgeRequest parse(EdgeAction action, byte[] body) {
        if (isBlank(body)) {
            throw new EdgeProblem(EdgeError.EMPTY_BODY, "The request body is empty.");
        }
        Map<JsonNode, RawEvent> raw = new IdentityHashMap<>();
        JsonNode root = readJson(body, action, raw);
        Errors errors = new Errors();
        if (!root.isObject()) {
            throw EdgeProblem.field(EdgeError.INVALID_FIELD, "$", "the body must be a JSON object");
        }
        ObjectNode query = object(root, "query", "query", errors);
        ObjectNode meta = object(root, "meta", "meta", errors);
        List<JsonNode> rawEvents = new ArrayList<>();
        List<String> eventPaths = new ArrayList<>();
        ObjectNode requestXdm = null;
        JsonNode consent = null;

        switch (action) {
            case V2_INTERACT -> {
                JsonNode event = root.get("event");
                if (event == null || event.isNull()) {
                    String why = root.has("events")
                            ? "v2 interact takes exactly one 'event' object, not an 'events' array; use collect for batches"
                            : "the 'event' object is required";
                    throw EdgeProblem.field(EdgeError.MISSING_FIELD, "event", why);
                }
                rawEvents.add(event);
                eventPaths.add("event");
            }
            case V2_COLLECT, V1_INTERACT, V1_COLLECT -> {
                JsonNode events = root.get("events");
                if (events == null || events.isNull()) {
                    throw EdgeProblem.field(EdgeError.MISSING_FIELD, "events", "the 'events' array is required");
                }
                if (!events.isArray()) {
                    throw EdgeProblem.field(EdgeError.INVALID_FIELD, "events", "'events' must be an array of event objects");
                }
                if (events.isEmpty()) {
                    throw EdgeProblem.field(EdgeError.INVALID_FIELD, "events", "'events' must contain at least one event");
                }
                if (events.size() > MAX_EVENTS) {
                    throw EdgeProblem.field(EdgeError.INVALID_FIELD, "events",
                            "at most " + MAX_EVENTS + " events per request");
                }
                for (int i = 0; i < events.size(); i++) {
                    rawEvents.add(events.get(i));
                    eventPaths.add("events[" + i + "]");
                }
                if (action.version().equals("v1")) {
                    requestXdm = object(root, "xdm", "xdm", errors);
                }
            }
            case V1_SET_CONSENT -> {
                consent = root.get("consent");
                if (consent == null || consent.isNull()) {
                    throw EdgeProblem.field(EdgeError.MISSING_FIELD, "consent", "the 'consent' array is required");
                }
                if (!consent.isArray()) {
                    errors.add(EdgeError.INVALID_FIELD, "consent", "'consent' must be an array");
                }
                requestXdm = identityOnlyXdm(root, errors);
            }
            case V1_IDENTITY_ACQUIRE -> requestXdm = object(root, "xdm", "xdm", errors);
        }

        List<EdgeEvent> events = new ArrayList<>(rawEvents.size());
        for (int i = 0; i < rawEvents.size(); i++) {
            EdgeEvent event = parseEvent(i, rawEvents.get(i), raw.get(rawEvents.get(i)), eventPaths.get(i),
                    requestXdm, errors);
            if (event != null) {
                JsonNode eventQuery = rawEvents.get(i).get("query");
                events.add(eventQuery instanceof ObjectNode q ? event.withQuery(q) : event);
            }
        }
        List<IdentityItem> requestIdentities = requestXdm == null ? List.of()
                : identities(requestXdm.get("identityMap"), action == EdgeAction.V1_SET_CONSENT ? "identityMap" : "xdm.identityMap", errors);
        List<String> fetch = identityFetch(query, errors);
        List<StateEntry> state = stateEntries(meta, errors);
        errors.throwIfAny();
        return new EdgeRequest(action, events, requestIdentities, fetch, state, query, meta, consent);
    }

    private static ObjectNode identityOnlyXdm(JsonNode root, Errors errors) {
        JsonNode map = root.get("identityMap");
        if (map == null || map.isNull()) {
            return null;
        }
        ObjectNode xdm = EdgeJson.MAPPER.createObjectNode();
        xdm.set("identityMap", map);
        return xdm;
    }

    /**
     * Reads the body into the same tree {@code MAPPER.readTree(body)} gives, walking the root and the
     * event objects with {@link JsonScan} so the byte spans of each event's {@code xdm} and
     * {@code data} are known ({@code raw}, keyed by event node) and what is skipped is only checked,
     * never built. A body the scan refuses is read again the plain way, which accepts it (read whole,
     * not lean) or reports the problem with the mapper's wording and location; UTF-8 that is not
     * well formed is refused before, naming the field.
     */
    private static JsonNode readJson(byte[] body, EdgeAction action, Map<JsonNode, RawEvent> raw) {
        // UTF-8 with a byte order mark is still UTF-8 (the mapper skips the mark too); UTF-16 and 32 are read whole.
        int start = body.length >= 3 && body[0] == (byte) 0xEF && body[1] == (byte) 0xBB && body[2] == (byte) 0xBF ? 3 : 0;
        if (body.length <= LEAN_MAX_BODY) { // a root that is not an object is refused by the scan, and read whole
            try {
                JsonScan scan = new JsonScan(body, start);
                JsonNode root = readRoot(scan, body, action, raw);
                scan.endOfBody();
                return root;
            } catch (JsonScan.Refused e) {
                raw.clear();
            }
        }
        MalformedUtf8.refuse(body); // the mapper reads some of it as other text than was sent
        return readJsonPlainly(body);
    }

    private static JsonNode readRoot(JsonScan scan, byte[] body, EdgeAction action, Map<JsonNode, RawEvent> raw)
            throws JsonScan.Refused {
        ObjectNode root = EdgeJson.MAPPER.createObjectNode();
        scan.beginObject();
        while (scan.nextMember()) {
            String name = scan.key(); // the scan refuses a key sent twice
            JsonNode read;
            if (action == EdgeAction.V2_INTERACT && name.equals("event") && scan.peek() == '{') {
                read = readEvent(scan, body, raw);
            } else if (action != EdgeAction.V2_INTERACT && name.equals("events") && scan.peek() == '[') {
                ArrayNode events = root.arrayNode();
                scan.beginArray();
                while (scan.nextItem()) {
                    events.add(scan.peek() == '{' ? readEvent(scan, body, raw) : tree(scan, body));
                }
                read = events;
            } else {
                read = tree(scan, body);
            }
            root.set(name, read);
        }
        return root;
    }

    /**
     * One event object, lean: its xdm object is walked member by member and only the
     * {@link EdgeEvent#LEAN_MEMBERS} become trees; the rest of xdm, and data, are skipped (checked
     * by the scan) and kept as byte spans. Other members become trees.
     */
    private static ObjectNode readEvent(JsonScan scan, byte[] body, Map<JsonNode, RawEvent> raw)
            throws JsonScan.Refused {
        ObjectNode event = EdgeJson.MAPPER.createObjectNode();
        ObjectNode members = null;
        RawJson xdm = null;
        RawJson data = null;
        scan.beginObject();
        while (scan.nextMember()) {
            String name = scan.key();
            int value = scan.peek();
            if (value == '{' && name.equals("xdm")) {
                int start = scan.position();
                members = readXdmMembers(scan, body);
                xdm = new RawJson(body, start, scan.position(), !scan.lineBreakSeen());
            } else if (value != 'n' && name.equals("data")) {
                int start = scan.position();
                scan.skipValue();
                data = new RawJson(body, start, scan.position(), !scan.lineBreakSeen());
            } else {
                event.set(name, tree(scan, body));
            }
        }
        if (xdm != null || data != null) {
            raw.put(event, new RawEvent(members, xdm, data));
        }
        return event;
    }

    /** The xdm object at the scan's position: its lean members as a tree, the rest skipped. */
    private static ObjectNode readXdmMembers(JsonScan scan, byte[] body) throws JsonScan.Refused {
        ObjectNode members = EdgeJson.MAPPER.createObjectNode();
        scan.beginObject();
        while (scan.nextMember()) {
            String lean = scan.keyAmong(LEAN_NAMES); // most members are not: no string for them
            if (lean != null) {
                members.set(lean, tree(scan, body));
            } else {
                scan.skipValue();
            }
        }
        return members;
    }

    /** The value at the scan's position, checked by the scan and then read as a tree by the mapper. */
    private static JsonNode tree(JsonScan scan, byte[] body) throws JsonScan.Refused {
        scan.peek();
        int start = scan.position();
        scan.skipValue();
        try {
            // The whole mapper (trailing tokens refused): a value that ends elsewhere than the scan says is refused.
            return EdgeJson.MAPPER.readTree(body, start, scan.position() - start);
        } catch (IOException | NumberFormatException e) {
            // A number the mapper cannot hold is located and named by the plain read.
            throw JsonScan.Refused.INSTANCE;
        }
    }

    private static JsonNode readJsonPlainly(byte[] body) {
        try {
            return EdgeJson.MAPPER.readTree(body);
        } catch (StreamConstraintsException e) {
            throw new EdgeProblem(EdgeError.INVALID_JSON,
                    "The request body exceeds a JSON limit: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new EdgeProblem(EdgeError.INVALID_JSON, "The request body is not valid JSON" + where + ": "
                    + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new EdgeProblem(EdgeError.INVALID_JSON, "The request body could not be read as JSON: "
                    + firstLine(e.getMessage()));
        } catch (NumberFormatException e) {
            // Valid JSON, but a number no decimal holds: an exponent beyond about two billion.
            throw EdgeProblem.field(EdgeError.INVALID_FIELD, unreadableNumberPath(body),
                    "the number is out of range (its exponent is too large)");
        }
    }

    /**
     * Where the first number the mapper cannot read is, as {@code events[0].xdm._id}: the body is
     * streamed again token by token (no tree) and each decimal read as the mapper reads it.
     */
    static String unreadableNumberPath(byte[] body) {
        try (var parser = EdgeJson.MAPPER.getFactory().createParser(body)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                    try {
                        parser.getDecimalValue();
                    } catch (NumberFormatException e) {
                        return path(parser.getParsingContext());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // the path stays unknown
        }
        return "$";
    }

    private static String path(JsonStreamContext context) {
        List<JsonStreamContext> chain = new ArrayList<>();
        for (var c = context; c != null && !c.inRoot(); c = c.getParent()) {
            chain.add(c);
        }
        StringBuilder out = new StringBuilder();
        for (int i = chain.size() - 1; i >= 0; i--) {
            var c = chain.get(i);
            if (c.inArray()) {
                out.append('[').append(c.getCurrentIndex()).append(']');
            } else if (c.getCurrentName() != null) {
                out.append(out.length() == 0 ? "" : ".").append(c.getCurrentName());
            }
        }
        return out.length() == 0 ? "$" : out.toString();
    }

    /**
     * What the lean walk kept of one event: xdm's lean members and span (both null when xdm was
     * not an object), and data's span (null when absent or null).
     */
    private record RawEvent(ObjectNode members, RawJson xdm, RawJson data) {}

    private static EdgeEvent parseEvent(int index, JsonNode raw, RawEvent lean, String path, ObjectNode requestXdm,
                                        Errors errors) {
        if (!raw.isObject()) {
            errors.add(EdgeError.INVALID_FIELD, path, "an event must be a JSON object");
            return null;
        }
        boolean leanXdm = lean != null && lean.xdm() != null;
        JsonNode xdmNode = leanXdm ? lean.members() : raw.get("xdm");
        ObjectNode xdm = null; // the whole tree, when there is one
        ObjectNode members;    // what is read below: the lean members or the whole tree
        RawJson rawXdm = leanXdm ? lean.xdm() : null;
        if (xdmNode == null || xdmNode.isNull()) {
            if (requestXdm == null) {
                errors.add(EdgeError.MISSING_FIELD, path + ".xdm", "the event's 'xdm' object is required");
                return null;
            }
            xdm = members = EdgeJson.MAPPER.createObjectNode();
        } else if (!xdmNode.isObject()) {
            errors.add(EdgeError.INVALID_FIELD, path + ".xdm", "'xdm' must be an object");
            return null;
        } else if (leanXdm && requestXdm == null) {
            members = lean.members();
        } else {
            xdm = members = leanXdm ? (ObjectNode) lean.xdm().tree() : (ObjectNode) xdmNode;
        }
        if (requestXdm != null && mergeRequestXdm(xdm, requestXdm)) {
            rawXdm = null; // the client's bytes no longer say everything the tree does
        }
        List<IdentityItem> identities = identities(members.get("identityMap"), path + ".xdm.identityMap", errors);

        String eventId = null;
        JsonNode id = members.get("_id");
        if (id != null && !id.isNull()) {
            if (!id.isTextual() || id.asText().isEmpty() || id.asText().length() > 256) {
                errors.add(EdgeError.INVALID_FIELD, path + ".xdm._id", "'_id' must be a non-empty string of at most 256 characters");
            } else {
                eventId = id.asText();
            }
        }
        Instant timestamp = null;
        JsonNode ts = members.get("timestamp");
        if (ts != null && !ts.isNull()) {
            if (!ts.isTextual()) {
                errors.add(EdgeError.INVALID_FIELD, path + ".xdm.timestamp", "'timestamp' must be an ISO-8601 date-time string");
            } else {
                try {
                    timestamp = OffsetDateTime.parse(ts.asText()).toInstant();
                } catch (DateTimeParseException e) {
                    errors.add(EdgeError.INVALID_FIELD, path + ".xdm.timestamp",
                            "'timestamp' is not an ISO-8601 date-time with offset, such as 2021-08-09T14:09:20.859Z");
                }
            }
        }
        RawJson rawData = lean == null ? null : lean.data();
        if (xdm == null) {
            return EdgeEvent.lean(index, members, rawXdm, rawData, identities, eventId, timestamp);
        }
        JsonNode data = rawData != null ? rawData.tree() : raw.get("data");
        boolean hasData = data != null && !data.isNull();
        return new EdgeEvent(index, xdm, hasData ? data : null, identities, eventId, timestamp, rawXdm,
                hasData ? rawData : null);
    }

    /**
     * Request-level {@code xdm} (Mobile SDKs) applies to every event; the event's own fields win.
     * Returns whether the event's xdm was changed.
     */
    private static boolean mergeRequestXdm(ObjectNode xdm, ObjectNode requestXdm) {
        boolean changed = false;
        Iterator<Map.Entry<String, JsonNode>> fields = requestXdm.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            JsonNode own = xdm.get(field.getKey());
            if (own == null || own.isNull()) {
                xdm.set(field.getKey(), field.getValue().deepCopy());
                changed = true;
            } else if (field.getKey().equals("identityMap") && own.isObject() && field.getValue().isObject()) {
                var namespaces = field.getValue().fields();
                while (namespaces.hasNext()) {
                    var ns = namespaces.next();
                    if (!own.has(ns.getKey())) {
                        ((ObjectNode) own).set(ns.getKey(), ns.getValue().deepCopy());
                        changed = true;
                    }
                }
            }
        }
        return changed;
    }

    static List<IdentityItem> identities(JsonNode map, String path, Errors errors) {
        if (map == null || map.isNull()) {
            return List.of();
        }
        if (!map.isObject()) {
            errors.add(EdgeError.INVALID_FIELD, path, "'identityMap' must be an object of namespace arrays");
            return List.of();
        }
        List<IdentityItem> items = new ArrayList<>();
        var namespaces = map.fields();
        while (namespaces.hasNext()) {
            var ns = namespaces.next();
            String nsPath = path + "." + ns.getKey();
            if (ns.getKey().isEmpty()) {
                errors.add(EdgeError.INVALID_FIELD, nsPath, "an identity namespace must not be empty");
                continue;
            }
            if (!ns.getValue().isArray()) {
                errors.add(EdgeError.INVALID_FIELD, nsPath, "each identityMap namespace must be an array of identities");
                continue;
            }
            ArrayNode list = (ArrayNode) ns.getValue();
            for (int i = 0; i < list.size(); i++) {
                String itemPath = nsPath + "[" + i + "]";
                JsonNode item = list.get(i);
                if (!item.isObject()) {
                    errors.add(EdgeError.INVALID_FIELD, itemPath, "an identity must be an object");
                    continue;
                }
                JsonNode id = item.get("id");
                if (id == null || id.isNull()) {
                    errors.add(EdgeError.MISSING_FIELD, itemPath + ".id", "an identity needs an 'id'");
                    continue;
                }
                if (!id.isTextual() || id.asText().isEmpty()) {
                    errors.add(EdgeError.INVALID_FIELD, itemPath + ".id", "'id' must be a non-empty string");
                    continue;
                }
                Boolean primary = bool(item.get("primary"));
                if (primary == null) {
                    errors.add(EdgeError.INVALID_FIELD, itemPath + ".primary", "'primary' must be true or false");
                    continue;
                }
                String state = "ambiguous";
                JsonNode auth = item.get("authenticatedState");
                if (auth != null && !auth.isNull()) {
                    if (!auth.isTextual() || !AUTH_STATES.contains(auth.asText())) {
                        errors.add(EdgeError.INVALID_FIELD, itemPath + ".authenticatedState",
                                "'authenticatedState' must be ambiguous, authenticated or loggedOut");
                        continue;
                    }
                    state = auth.asText();
                }
                items.add(new IdentityItem(ns.getKey(), id.asText(), primary, state));
            }
        }
        return items;
    }

    /** Booleans, plus the strings "true"/"false" that the documented examples send. */
    private static Boolean bool(JsonNode node) {
        if (node == null || node.isNull()) {
            return Boolean.FALSE;
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isTextual()) {
            String text = node.asText();
            if (text.equalsIgnoreCase("true")) {
                return Boolean.TRUE;
            }
            if (text.equalsIgnoreCase("false")) {
                return Boolean.FALSE;
            }
        }
        return null;
    }

    private static List<String> identityFetch(ObjectNode query, Errors errors) {
        if (query == null) {
            return List.of();
        }
        JsonNode identity = query.get("identity");
        if (identity == null || !identity.isObject()) {
            return List.of();
        }
        JsonNode fetch = identity.get("fetch");
        if (fetch == null || fetch.isNull()) {
            return List.of();
        }
        if (!fetch.isArray()) {
            errors.add(EdgeError.INVALID_FIELD, "query.identity.fetch", "'fetch' must be an array of namespace codes");
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < fetch.size(); i++) {
            if (!fetch.get(i).isTextual()) {
                errors.add(EdgeError.INVALID_FIELD, "query.identity.fetch[" + i + "]", "a namespace code must be a string");
            } else {
                out.add(fetch.get(i).asText());
            }
        }
        return out;
    }

    private static List<StateEntry> stateEntries(ObjectNode meta, Errors errors) {
        if (meta == null) {
            return List.of();
        }
        JsonNode state = meta.get("state");
        if (state == null || !state.isObject()) {
            return List.of();
        }
        JsonNode entries = state.get("entries");
        if (entries == null || entries.isNull()) {
            return List.of();
        }
        if (!entries.isArray()) {
            errors.add(EdgeError.INVALID_FIELD, "meta.state.entries", "'entries' must be an array");
            return List.of();
        }
        List<StateEntry> out = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            JsonNode entry = entries.get(i);
            JsonNode key = entry.get("key");
            JsonNode value = entry.get("value");
            if (key == null || !key.isTextual() || value == null || !value.isTextual()) {
                errors.add(EdgeError.INVALID_FIELD, "meta.state.entries[" + i + "]",
                        "a state entry needs string 'key' and 'value'");
                continue;
            }
            out.add(new StateEntry(key.asText(), value.asText()));
        }
        return out;
    }

    private static ObjectNode object(JsonNode root, String field, String path, Errors errors) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            errors.add(EdgeError.INVALID_FIELD, path, "'" + field + "' must be an object");
            return null;
        }
        return (ObjectNode) node;
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return false;
            }
        }
        return true;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable input";
        }
        int nl = message.indexOf('\n');
        String line = nl < 0 ? message : message.substring(0, nl);
        return line.length() > 300 ? line.substring(0, 300) : line;
    }

    /** Collects every field problem of a body so one answer names them all. */
    static final class Errors {
        private final List<FieldError> list = new ArrayList<>();
        private EdgeError first;

        void add(EdgeError error, String path, String message) {
            if (first == null) {
                first = error;
            }
            if (list.size() < 100) {
                list.add(new FieldError(path, message));
            }
        }

        void throwIfAny() {
            if (first == null) {
                return;
            }
            String detail = list.size() == 1
                    ? list.get(0).message() + " (" + list.get(0).path() + ")"
                    : list.size() + " fields are invalid; see report.errors";
            throw new EdgeProblem(first, detail, Map.of(), list, null);
        }
    }
}
