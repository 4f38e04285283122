package org.xdmedge.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventReader;

/**
 * Quarantine records: an invalid event kept in the dataset {@code quarantine} instead of its own,
 * as the JSON object
 * {@code {"datastreamId", "dataset" (intended), "eventId", "event": {"xdm", "data"} (as sent),
 * "edge": {what the edge added}, "violations": [{"path", "keyword", "message"}]}}.
 *
 * <p>Its stored id is {@code quarantined:<eventId>} (so a retry of the request is not quarantined
 * twice, and the event's own id stays free for its dataset). Replay adds a record with new reasons
 * ({@code quarantined:<eventId>:<hash of the reasons>}) when they changed, and a replay mark
 * ({@code replayed:<eventId>} in the dataset {@code quarantine-replayed}) in the same commit as the
 * event it stores. The <em>current</em> quarantine is, per datastream and event id, the newest
 * record of an event without a replay mark.
 */
public final class Quarantine {
    private static final String QUARANTINED = "quarantined:";
    private static final String REPLAYED = "replayed:";

    private Quarantine() {}

    /** One quarantined event, read back. */
    public record Entry(StoredEvent stored, String datastreamId, String dataset, String eventId, ObjectNode xdm,
                        JsonNode data, EdgeAdditions additions, List<Violation> violations) {}

    /** The quarantine record of an event that failed its checks, to store in place of the event. */
    public static StoredEvent record(String requestId, String datastreamId, String dataset, long receivedAtMillis,
                                     String eventId, String primaryNamespace, String primaryId, boolean mintedId,
                                     JsonNode xdmAsSent, JsonNode dataAsSent, EdgeAdditions additions,
                                     Violations violations) {
        return record(requestId, datastreamId, dataset, receivedAtMillis, QUARANTINED + eventId, eventId,
                primaryNamespace, primaryId, mintedId, xdmAsSent, dataAsSent, additions, violations.json());
    }

    private static StoredEvent record(String requestId, String datastreamId, String dataset, long receivedAtMillis,
                                      String recordId, String eventId, String primaryNamespace, String primaryId,
                                      boolean mintedId, JsonNode xdm, JsonNode data, EdgeAdditions additions,
                                      ArrayNode violations) {
        ObjectNode json = EdgeJson.MAPPER.createObjectNode();
        json.put("datastreamId", datastreamId);
        json.put("dataset", dataset);
        json.put("eventId", eventId);
        ObjectNode event = json.putObject("event");
        event.set("xdm", xdm);
        if (data != null) {
            event.set("data", data);
        }
        additions.writeTo(json.putObject("edge"));
        json.set("violations", violations);
        return new StoredEvent(requestId, datastreamId, DataQuality.QUARANTINE_DATASET, receivedAtMillis, recordId,
                primaryNamespace, primaryId, bytes(json), mintedId);
    }

    /** The same event quarantined again with new reasons (by replay). */
    static StoredEvent requarantined(Entry entry, List<Violation> violations) {
        ArrayNode json = violationsJson(violations);
        String reasons = Mapping.sha256(json.toString()).substring(0, 16);
        StoredEvent s = entry.stored();
        return record(s.requestId(), entry.datastreamId(), entry.dataset(), s.receivedAtMillis(),
                QUARANTINED + entry.eventId() + ":" + reasons, entry.eventId(), s.primaryNamespace(), s.primaryId(),
                false, entry.xdm(), entry.data(), entry.additions(), json);
    }

    /** The mark that {@code entry} was stored in its dataset; written in the same commit as the event. */
    static StoredEvent replayMark(Entry entry, long nowMillis) {
        ObjectNode json = EdgeJson.MAPPER.createObjectNode();
        json.put("datastreamId", entry.datastreamId());
        json.put("dataset", entry.dataset());
        json.put("eventId", entry.eventId());
        StoredEvent s = entry.stored();
        return new StoredEvent(s.requestId(), entry.datastreamId(), DataQuality.REPLAYED_DATASET, nowMillis,
                REPLAYED + entry.eventId(), s.primaryNamespace(), s.primaryId(), bytes(json), false);
    }

    /** The event id an SDK sent (or the edge gave) for a stored event or its quarantine record. */
    public static String eventIdOf(StoredEvent e) {
        return DataQuality.QUARANTINE_DATASET.equals(e.dataset()) && e.eventId().startsWith(QUARANTINED)
                ? originalId(e.eventId()) : e.eventId();
    }

    public static ArrayNode violationsJson(List<Violation> violations) {
        ArrayNode list = EdgeJson.MAPPER.createArrayNode();
        for (Violation v : violations) {
            ObjectNode item = list.addObject();
            item.put("path", v.path());
            item.put("keyword", v.keyword());
            item.put("message", v.message());
        }
        return list;
    }

    /**
     * Calls {@code each} for every event now in quarantine (of {@code datastreamId} when not null),
     * oldest first: the newest record per event, events with a replay mark left out. Reads the
     * log twice; records committed after the first pass are left for the next call.
     */
    public static void forEachCurrent(Path dataDir, String datastreamId, Consumer<Entry> each) throws IOException {
        Map<String, Long> newest = new HashMap<>();
        Set<String> replayed = new HashSet<>();
        long[] ordinal = {0};
        EventReader.forEach(dataDir, null, e -> {
            long at = ordinal[0]++;
            if (DataQuality.QUARANTINE_DATASET.equals(e.dataset()) && e.eventId().startsWith(QUARANTINED)) {
                newest.put(key(e.datastreamId(), originalId(e.eventId())), at);
            } else if (DataQuality.REPLAYED_DATASET.equals(e.dataset()) && e.eventId().startsWith(REPLAYED)) {
                replayed.add(key(e.datastreamId(), e.eventId().substring(REPLAYED.length())));
            }
        });
        long last = ordinal[0];
        ordinal[0] = 0;
        EventReader.forEach(dataDir, null, e -> {
            long at = ordinal[0]++;
            if (at >= last || !DataQuality.QUARANTINE_DATASET.equals(e.dataset()) || !e.eventId().startsWith(QUARANTINED)
                    || (datastreamId != null && !datastreamId.equals(e.datastreamId()))) {
                return;
            }
            String key = key(e.datastreamId(), originalId(e.eventId()));
            Long newestAt = newest.get(key);
            if (newestAt != null && newestAt == at && !replayed.contains(key)) {
                each.accept(read(e));
            }
        });
    }

    /** The event id inside a record id: {@code quarantined:<id>} or {@code quarantined:<id>:<16 hex>}. */
    private static String originalId(String recordId) {
        String rest = recordId.substring(QUARANTINED.length());
        int colon = rest.length() - 17;
        if (colon > 0 && rest.charAt(colon) == ':' && rest.substring(colon + 1).matches("[0-9a-f]{16}")) {
            return rest.substring(0, colon);
        }
        return rest;
    }

    private static String key(String datastreamId, String eventId) {
        return datastreamId + "\n" + eventId;
    }

    static Entry read(StoredEvent e) {
        JsonNode json;
        try {
            json = EdgeJson.MAPPER.readTree(e.eventJson());
        } catch (IOException ex) {
            throw new UncheckedIOException("quarantine record " + e.eventId() + " is not JSON", ex);
        }
        JsonNode event = json.path("event");
        JsonNode xdm = event.get("xdm");
        List<Violation> violations = new ArrayList<>();
        for (JsonNode v : json.path("violations")) {
            violations.add(new Violation(v.path("path").asText(), v.path("keyword").asText(), v.path("message").asText()));
        }
        JsonNode data = event.get("data");
        return new Entry(e, json.path("datastreamId").asText(e.datastreamId()), json.path("dataset").asText(),
                json.path("eventId").asText(), xdm instanceof ObjectNode o ? o : EdgeJson.MAPPER.createObjectNode(),
                data == null || data.isNull() ? null : data, EdgeAdditions.readFrom(json.get("edge")), violations);
    }

    private static byte[] bytes(JsonNode json) {
        try {
            return EdgeJson.MAPPER.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
