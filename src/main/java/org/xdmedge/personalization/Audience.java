package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.xdmedge.config.PersonalizationConfig.ConditionConfig;
import org.xdmedge.config.PersonalizationConfig;
import org.xdmedge.protocol.FieldPaths;

/** An activity's audience: conditions that must all hold for an event and its request. */
final class Audience {
    /**
     * Request context a condition may read: the User-Agent header, the page URL and referrer as
     * alloy sends them (xdm.web.webPageDetails.URL, xdm.web.webReferrer.URL; the Referer header
     * when the event has none), the hour (0-23) and weekday (1 Monday - 7 Sunday) in UTC, and the
     * visitor's consent.
     */
    static final List<String> CONTEXT_FIELDS = List.of("userAgent", "pageUrl", "referrer", "hourOfDay", "dayOfWeek",
            "consent");

    enum Op {
        EQUALS("equals"), NOT_EQUALS("notEquals"), CONTAINS("contains"), NOT_CONTAINS("notContains"),
        STARTS_WITH("startsWith"), ENDS_WITH("endsWith"), EXISTS("exists"), NOT_EXISTS("notExists"), IN("in"),
        NOT_IN("notIn"), GREATER_THAN("greaterThan"), GREATER_THAN_OR_EQUALS("greaterThanOrEquals"),
        LESS_THAN("lessThan"), LESS_THAN_OR_EQUALS("lessThanOrEquals");

        final String yamlName;

        Op(String yamlName) {
            this.yamlName = yamlName;
        }

        static Op named(String name) {
            for (Op op : values()) {
                if (op.yamlName.equals(name)) {
                    return op;
                }
            }
            return null;
        }

        static String names() {
            return Arrays.stream(values()).map(o -> o.yamlName).collect(Collectors.joining(", "));
        }

        /** Why {@code value} does not suit this operator, or null. */
        String valueProblem(JsonNode value) {
            boolean absent = value == null || value.isNull();
            return switch (this) {
                case EXISTS, NOT_EXISTS -> absent ? null : "'" + yamlName + "' takes no value";
                case IN, NOT_IN -> absent || !value.isArray() || value.isEmpty()
                        || !all(value, v -> v.isValueNode() && !v.isNull())
                        ? "'" + yamlName + "' takes a non-empty list of strings or numbers" : null;
                case GREATER_THAN, GREATER_THAN_OR_EQUALS, LESS_THAN, LESS_THAN_OR_EQUALS ->
                        absent || !value.isNumber() ? "'" + yamlName + "' takes a number" : null;
                case CONTAINS, NOT_CONTAINS, STARTS_WITH, ENDS_WITH ->
                        absent || !value.isTextual() ? "'" + yamlName + "' takes a string" : null;
                case EQUALS, NOT_EQUALS -> absent || !value.isValueNode()
                        ? "'" + yamlName + "' takes a string, number or boolean" : null;
            };
        }

        private static boolean all(JsonNode array, Predicate<JsonNode> test) {
            for (JsonNode v : array) {
                if (!test.test(v)) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * One compiled condition: where its field lives (for event fields, its place among the paths
     * the datastream's audiences read) and the test.
     */
    record Condition(Source source, int field, String contextField, Op op, JsonNode value) {
        enum Source { XDM, DATA, CONTEXT }
    }

    private static final String[] PAGE_URL = {"web", "webPageDetails", "URL"};
    private static final String[] REFERRER = {"web", "webReferrer", "URL"};

    /**
     * The event fields every audience of one datastream reads, compiled once, so a request reads
     * each of them once from the event's bytes and builds no other part of the event.
     */
    static final class Fields {
        private final List<String[]> xdm = new ArrayList<>();
        private final List<String[]> data = new ArrayList<>();
        private FieldPaths xdmPaths;
        private FieldPaths dataPaths;

        private int place(List<String[]> paths, String[] path) {
            for (int i = 0; i < paths.size(); i++) {
                if (Arrays.equals(paths.get(i), path)) {
                    return i;
                }
            }
            paths.add(path);
            return paths.size() - 1;
        }

        /** Compiles the paths once every audience has named its own. */
        Fields freeze() {
            xdmPaths = FieldPaths.of(List.copyOf(xdm));
            dataPaths = FieldPaths.of(List.copyOf(data));
            return this;
        }
    }

    private final List<Condition> conditions;

    private Audience(List<Condition> conditions) {
        this.conditions = conditions;
    }

    /** The audience of {@code configs}, naming the event fields it reads in {@code fields}. */
    static Audience of(List<ConditionConfig> configs, Fields fields) {
        List<Condition> out = new ArrayList<>(configs.size());
        for (ConditionConfig c : configs) {
            String field = c.field();
            Op op = Op.named(c.op());
            if (field.startsWith("context.")) {
                String name = field.substring(8);
                int at = switch (name) {
                    case "pageUrl" -> fields.place(fields.xdm, PAGE_URL);
                    case "referrer" -> fields.place(fields.xdm, REFERRER);
                    default -> -1;
                };
                out.add(new Condition(Condition.Source.CONTEXT, at, name, op, c.value()));
            } else {
                String[] parts = field.split("\\.");
                String[] path = Arrays.copyOfRange(parts, 1, parts.length);
                boolean xdm = parts[0].equals("xdm");
                out.add(new Condition(xdm ? Condition.Source.XDM : Condition.Source.DATA,
                        fields.place(xdm ? fields.xdm : fields.data, path), null, op, c.value()));
            }
        }
        return new Audience(List.copyOf(out));
    }

    boolean isEmpty() {
        return conditions.isEmpty();
    }

    /** True when every condition holds; the event's fields are read only as the conditions need them. */
    boolean matches(DecisionRequest request, Lazy event) {
        for (Condition c : conditions) {
            if (!holds(c, valueOf(c, request, event))) {
                return false;
            }
        }
        return true;
    }

    /** The event's fields that audiences read, each read at most once per event whatever the number of activities. */
    static final class Lazy {
        private final DecisionRequest request;
        private final Fields fields;
        private JsonNode[] xdm;
        private JsonNode[] data;

        Lazy(DecisionRequest request, Fields fields) {
            this.request = request;
            this.fields = fields;
        }

        JsonNode xdm(int field) {
            if (xdm == null) {
                JsonNode[] read = request.xdm() == null ? null : request.xdm().apply(fields.xdmPaths);
                xdm = read == null ? new JsonNode[fields.xdmPaths.size()] : read;
            }
            return xdm[field];
        }

        JsonNode data(int field) {
            if (data == null) {
                JsonNode[] read = request.data() == null ? null : request.data().apply(fields.dataPaths);
                data = read == null ? new JsonNode[fields.dataPaths.size()] : read;
            }
            return data[field];
        }
    }

    private static JsonNode valueOf(Condition c, DecisionRequest request, Lazy event) {
        switch (c.source()) {
            case XDM:
                return event.xdm(c.field());
            case DATA:
                return event.data(c.field());
            default:
                return contextValue(c, request, event);
        }
    }

    private static JsonNode contextValue(Condition c, DecisionRequest request, Lazy event) {
        var nodes = JsonNodeFactory.instance;
        switch (c.contextField()) {
            case "userAgent":
                return request.userAgent() == null ? null : nodes.textNode(request.userAgent());
            case "pageUrl": {
                JsonNode url = event.xdm(c.field());
                return url != null ? url : request.referer() == null ? null : nodes.textNode(request.referer());
            }
            case "referrer":
                return event.xdm(c.field());
            case "hourOfDay":
                return nodes.numberNode(ZonedDateTime.ofInstant(Instant.ofEpochMilli(request.nowMillis()), ZoneOffset.UTC).getHour());
            case "dayOfWeek":
                return nodes.numberNode(ZonedDateTime.ofInstant(Instant.ofEpochMilli(request.nowMillis()), ZoneOffset.UTC)
                        .getDayOfWeek().getValue());
            case "consent":
                return request.consent() == null ? null : nodes.textNode(request.consent());
            default:
                return null;
        }
    }

    static boolean holds(Condition c, JsonNode actual) {
        JsonNode expected = c.value();
        switch (c.op()) {
            case EXISTS:
                return actual != null;
            case NOT_EXISTS:
                return actual == null;
            case NOT_EQUALS:
                return actual == null || !same(actual, expected);
            case NOT_IN:
                return actual == null || !in(actual, expected);
            case NOT_CONTAINS:
                return actual == null || !text(actual).contains(expected.asText());
            default:
                break;
        }
        if (actual == null) {
            return false;
        }
        return switch (c.op()) {
            case EQUALS -> same(actual, expected);
            case CONTAINS -> text(actual).contains(expected.asText());
            case STARTS_WITH -> text(actual).startsWith(expected.asText());
            case ENDS_WITH -> text(actual).endsWith(expected.asText());
            case IN -> in(actual, expected);
            case GREATER_THAN -> number(actual) != null && number(actual) > expected.doubleValue();
            case GREATER_THAN_OR_EQUALS -> number(actual) != null && number(actual) >= expected.doubleValue();
            case LESS_THAN -> number(actual) != null && number(actual) < expected.doubleValue();
            case LESS_THAN_OR_EQUALS -> number(actual) != null && number(actual) <= expected.doubleValue();
            default -> false;
        };
    }

    private static boolean in(JsonNode actual, JsonNode list) {
        for (JsonNode v : list) {
            if (same(actual, v)) {
                return true;
            }
        }
        return false;
    }

    /** Numbers compare as numbers (a numeric string included), everything else as text. */
    private static boolean same(JsonNode actual, JsonNode expected) {
        if (expected.isNumber()) {
            Double n = number(actual);
            return n != null && n == expected.doubleValue();
        }
        if (expected.isBoolean()) {
            return actual.isBoolean() ? actual.booleanValue() == expected.booleanValue()
                    : text(actual).toLowerCase(Locale.ROOT).equals(expected.asText());
        }
        return text(actual).equals(expected.asText());
    }

    private static String text(JsonNode node) {
        return node.isValueNode() ? node.asText() : node.toString();
    }

    private static Double number(JsonNode node) {
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isTextual()) {
            try {
                return Double.parseDouble(node.asText().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }
}
