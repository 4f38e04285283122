package org.xdmedge.personalization;

import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.xdmedge.config.PersonalizationConfig.ActivityConfig;
import org.xdmedge.config.PersonalizationConfig.ExperienceConfig;
import org.xdmedge.config.PersonalizationConfig.ItemConfig;
import org.xdmedge.config.PersonalizationConfig;
import org.xdmedge.protocol.EdgeJson;

/**
 * The validated activities of one datastream, ready to answer: grouped by scope, highest priority
 * first, each experience's proposition built once.
 */
final class DatastreamActivities {
    static final String VIEW_SCOPE = "__view__";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /**
     * One experience with its proposition as the edge sends it for the activity's own scope, as a
     * tree and as the bytes an answer carries when it needs the proposition unchanged.
     */
    record Experience(String id, ObjectNode proposition, RawValue bytes, Set<String> schemas) {}

    /** {@code key}: the activity id's assignment key ({@link Assignment#key}). */
    record Activity(String id, String scope, int priority, Audience audience, List<Experience> experiences,
                    int[] weights, byte[] key) {}

    private final Map<String, List<Activity>> byScope;
    private final Audience.Fields fields;
    private final int count;

    private DatastreamActivities(Map<String, List<Activity>> byScope, Audience.Fields fields, int count) {
        this.byScope = byScope;
        this.fields = fields;
        this.count = count;
    }

    /** Builds from activities that passed {@link ActivitiesLoader}'s checks. */
    static DatastreamActivities of(List<ActivityConfig> configs) {
        Map<String, List<Activity>> byScope = new HashMap<>();
        Audience.Fields fields = new Audience.Fields();
        for (ActivityConfig a : configs) {
            List<Experience> experiences = new ArrayList<>();
            int[] weights = new int[a.experiences().size()];
            for (int i = 0; i < weights.length; i++) {
                ExperienceConfig x = a.experiences().get(i);
                weights[i] = x.weight();
                experiences.add(experience(a, x));
            }
            byScope.computeIfAbsent(normalize(a.scope()), k -> new ArrayList<>())
                    .add(new Activity(a.id(), a.scope(), a.priority(), Audience.of(a.audience(), fields),
                            List.copyOf(experiences), weights, Assignment.key(a.id())));
        }
        // Stable: activities of equal priority keep the order they are written in.
        byScope.values().forEach(list -> list.sort(Comparator.comparingInt(Activity::priority).reversed()));
        Map<String, List<Activity>> frozen = new HashMap<>();
        byScope.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return new DatastreamActivities(Map.copyOf(frozen), fields.freeze(), configs.size());
    }

    int size() {
        return count;
    }

    /**
     * For each scope and surface the query asks for, the proposition of the highest-priority
     * activity whose audience holds and which has items of a schema the query accepts.
     */
    ArrayNode decide(DecisionRequest request) {
        JsonNode query = request.query();
        if (query == null || !query.isObject()) {
            return null;
        }
        List<String> schemas = list(query.get("schemas"));
        List<String> wanted = new ArrayList<>(); // as the client wrote them, the first of each normalized scope
        List<String> normalized = new ArrayList<>();
        want(query.get("decisionScopes"), wanted, normalized);
        want(query.get("surfaces"), wanted, normalized);
        ArrayNode out = null;
        Audience.Lazy event = null;
        for (int s = 0; s < wanted.size(); s++) {
            List<Activity> candidates = byScope.get(normalized.get(s));
            if (candidates == null) {
                continue;
            }
            for (Activity a : candidates) {
                if (!a.audience().isEmpty()) {
                    if (event == null) {
                        event = new Audience.Lazy(request, fields);
                    }
                    if (!a.audience().matches(request, event)) {
                        continue;
                    }
                }
                Experience x = a.experiences().get(Assignment.pick(Assignment.bucket(a.key(), request.ecid()), a.weights()));
                JsonNode proposition = shaped(x, wanted.get(s), schemas);
                if (proposition == null) {
                    continue;
                }
                if (out == null) {
                    out = NODES.arrayNode();
                }
                out.add(proposition);
                break;
            }
        }
        return out;
    }

    /** Adds the scopes of {@code array} not yet wanted, with their normalized forms. */
    private static void want(JsonNode array, List<String> wanted, List<String> normalized) {
        for (String s : list(array)) {
            String n = normalize(s);
            if (!normalized.contains(n)) {
                wanted.add(s);
                normalized.add(n);
            }
        }
    }

    /**
     * The experience's proposition for the scope as requested, with only accepted schemas (an empty
     * {@code schemas} accepts every one); null when none is.
     */
    private static JsonNode shaped(Experience x, String requestedScope, List<String> schemas) {
        ObjectNode template = x.proposition();
        boolean allAccepted = schemas.isEmpty() || schemas.containsAll(x.schemas());
        boolean sameScope = requestedScope.equals(template.get("scope").asText());
        if (allAccepted && sameScope) {
            return NODES.rawValueNode(x.bytes());
        }
        ObjectNode copy = NODES.objectNode();
        copy.setAll(template);
        copy.put("scope", requestedScope);
        if (!allAccepted) {
            ArrayNode items = NODES.arrayNode();
            template.get("items").forEach(item -> {
                if (schemas.contains(item.get("schema").asText())) {
                    items.add(item);
                }
            });
            if (items.isEmpty() && !x.schemas().isEmpty()) {
                return null;
            }
            copy.set("items", items);
        }
        return copy;
    }

    /** Surfaces compare as alloy writes them (scheme and host lower case, no trailing slash); names exactly. */
    static String normalize(String scope) {
        int sep = scope.indexOf("://");
        if (sep < 0) {
            return scope;
        }
        int fragment = scope.indexOf('#');
        String head = fragment < 0 ? scope : scope.substring(0, fragment);
        String tail = fragment < 0 ? "" : scope.substring(fragment);
        int pathAt = head.indexOf('/', sep + 3);
        String authority = (pathAt < 0 ? head : head.substring(0, pathAt)).toLowerCase(Locale.ROOT);
        String path = pathAt < 0 ? "/" : head.substring(pathAt);
        int end = path.length();
        while (end > 1 && path.charAt(end - 1) == '/') {
            end--;
        }
        return authority + path.substring(0, end) + tail;
    }

    private static Experience experience(ActivityConfig a, ExperienceConfig x) {
        ObjectNode p = NODES.objectNode();
        p.put("id", UUID.nameUUIDFromBytes((a.id() + "\n" + x.id()).getBytes(StandardCharsets.UTF_8)).toString());
        p.put("scope", a.scope());
        ObjectNode details = p.putObject("scopeDetails");
        details.put("decisionProvider", "TGT");
        details.putObject("activity").put("id", a.id());
        details.putObject("experience").put("id", x.id());
        ArrayNode strategies = details.putArray("strategies");
        strategies.addObject().put("step", "entry").put("algorithmID", "0").put("trafficType", "0");
        strategies.addObject().put("step", "display").put("algorithmID", "0").put("trafficType", "0");
        details.putObject("characteristics").put("eventToken", Base64.getEncoder().encodeToString(
                ("xdm-edge:" + a.id() + ":" + x.id()).getBytes(StandardCharsets.UTF_8)));
        details.put("correlationID", a.id() + ":" + x.id() + ":0");
        ArrayNode items = p.putArray("items");
        Set<String> schemas = new HashSet<>();
        for (int i = 0; i < x.items().size(); i++) {
            ItemConfig c = x.items().get(i);
            ItemType type = ItemType.named(c.type());
            schemas.add(type.schema());
            String itemId = c.id() != null ? c.id() : a.id() + "-" + x.id() + "-" + i;
            ObjectNode item = items.addObject();
            item.put("id", itemId);
            item.put("schema", type.schema());
            ObjectNode meta = item.putObject("meta");
            meta.put("activity.id", a.id());
            meta.put("experience.id", x.id());
            ObjectNode data = item.putObject("data");
            switch (type) {
                case DOM_ACTION -> {
                    data.put("type", c.action());
                    data.put("format", "application/vnd.adobe.target.dom-action");
                    if (c.content() != null) {
                        data.set("content", c.content());
                    }
                    data.put("selector", c.selector());
                    data.put("prehidingSelector", c.prehidingSelector() != null ? c.prehidingSelector() : c.selector());
                }
                case HTML -> {
                    data.put("id", itemId);
                    data.put("format", "text/html");
                    data.set("content", c.content());
                    if (c.action() != null) {
                        data.put("type", c.action());
                        data.put("selector", c.selector());
                        data.put("prehidingSelector", c.prehidingSelector() != null ? c.prehidingSelector() : c.selector());
                    }
                }
                case JSON -> {
                    data.put("id", itemId);
                    data.put("format", "application/json");
                    data.set("content", c.content());
                }
                case REDIRECT -> {
                    data.put("type", "redirect");
                    data.put("format", "text/uri-list");
                    data.set("content", c.content());
                }
            }
        }
        return new Experience(x.id(), p, bytesOf(p), Set.copyOf(schemas));
    }

    /** The proposition's JSON, its UTF-8 bytes made now so an answer only copies them. */
    private static RawValue bytesOf(ObjectNode proposition) {
        SerializedString text;
        try {
            text = new SerializedString(EdgeJson.MAPPER.writeValueAsString(proposition));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of plain values is always written", e);
        }
        text.asUnquotedUTF8();
        return new RawValue(text);
    }

    private static List<String> list(JsonNode array) {
        if (array == null || !array.isArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>(array.size());
        array.forEach(v -> {
            if (v.isTextual() && !v.asText().isEmpty()) {
                out.add(v.asText());
            }
        });
        return out;
    }
}
