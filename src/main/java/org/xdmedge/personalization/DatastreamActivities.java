package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.xdmedge.config.PersonalizationConfig.ActivityConfig;
import org.xdmedge.config.PersonalizationConfig.ExperienceConfig;
import org.xdmedge.config.PersonalizationConfig.ItemConfig;
import org.xdmedge.config.PersonalizationConfig;

/**
 * The validated activities of one datastream, ready to answer: grouped by scope, highest priority
 * first, each experience's proposition built once.
 */
final class DatastreamActivities {
    static final String VIEW_SCOPE = "__view__";
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** One experience with its proposition as the edge sends it for the activity's own scope. */
    record Experience(String id, ObjectNode proposition, Set<String> schemas) {}

    record Activity(String id, String scope, int priority, Audience audience, List<Experience> experiences,
                    int[] weights) {}

    private final Map<String, List<Activity>> byScope;
    private final int count;

    private DatastreamActivities(Map<String, List<Activity>> byScope, int count) {
        this.byScope = byScope;
        this.count = count;
    }

    /** Builds from activities that passed {@link ActivitiesLoader}'s checks. */
    static DatastreamActivities of(List<ActivityConfig> configs) {
        Map<String, List<Activity>> byScope = new HashMap<>();
        for (ActivityConfig a : configs) {
            List<Experience> experiences = new ArrayList<>();
            int[] weights = new int[a.experiences().size()];
            for (int i = 0; i < weights.length; i++) {
                ExperienceConfig x = a.experiences().get(i);
                weights[i] = x.weight();
                experiences.add(experience(a, x));
            }
            byScope.computeIfAbsent(normalize(a.scope()), k -> new ArrayList<>())
                    .add(new Activity(a.id(), a.scope(), a.priority(), Audience.of(a.audience()), List.copyOf(experiences),
                            weights));
        }
        // Stable: activities of equal priority keep the order they are written in.
        byScope.values().forEach(list -> list.sort(Comparator.comparingInt(Activity::priority).reversed()));
        Map<String, List<Activity>> frozen = new HashMap<>();
        byScope.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return new DatastreamActivities(Map.copyOf(frozen), configs.size());
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
        Set<String> schemas = strings(query.get("schemas"));
        Map<String, String> wanted = new LinkedHashMap<>(); // normalized scope -> as the client wrote it
        for (String s : list(query.get("decisionScopes"))) {
            wanted.putIfAbsent(normalize(s), s);
        }
        for (String s : list(query.get("surfaces"))) {
            wanted.putIfAbsent(normalize(s), s);
        }
        ArrayNode out = null;
        Audience.Lazy event = null;
        for (Map.Entry<String, String> scope : wanted.entrySet()) {
            List<Activity> candidates = byScope.get(scope.getKey());
            if (candidates == null) {
                continue;
            }
            for (Activity a : candidates) {
                if (!a.audience().isEmpty()) {
                    if (event == null) {
                        event = new Audience.Lazy(request);
                    }
                    if (!a.audience().matches(request, event)) {
                        continue;
                    }
                }
                Experience x = a.experiences().get(Assignment.pick(Assignment.bucket(a.id(), request.ecid()), a.weights()));
                ObjectNode proposition = shaped(x, scope.getValue(), schemas);
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

    /** The experience's proposition for the scope as requested, with only accepted schemas; null when none is. */
    private static ObjectNode shaped(Experience x, String requestedScope, Set<String> schemas) {
        ObjectNode template = x.proposition();
        boolean allAccepted = schemas == null || schemas.containsAll(x.schemas());
        boolean sameScope = requestedScope.equals(template.get("scope").asText());
        if (allAccepted && sameScope) {
            return template;
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
        return new Experience(x.id(), p, Set.copyOf(schemas));
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

    /** The accepted schemas, or null when the query names none (everything is accepted). */
    private static Set<String> strings(JsonNode array) {
        List<String> l = list(array);
        return l.isEmpty() ? null : Set.copyOf(l);
    }
}
