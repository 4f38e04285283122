package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
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

    /** One compiled condition: where its field lives and the test. */
    record Condition(Source source, String[] path, String contextField, Op op, JsonNode value) {
        enum Source { XDM, DATA, CONTEXT }
    }

    private final List<Condition> conditions;

    private Audience(List<Condition> conditions) {
        this.conditions = conditions;
    }

    static Audience of(List<ConditionConfig> configs) {
        List<Condition> out = new ArrayList<>(configs.size());
        for (ConditionConfig c : configs) {
            String field = c.field();
            Op op = Op.named(c.op());
            if (field.startsWith("context.")) {
                out.add(new Condition(Condition.Source.CONTEXT, null, field.substring(8), op, c.value()));
            } else {
                String[] parts = field.split("\\.");
                out.add(new Condition(parts[0].equals("xdm") ? Condition.Source.XDM : Condition.Source.DATA,
                        Arrays.copyOfRange(parts, 1, parts.length), null, op, c.value()));
            }
        }
        return new Audience(List.copyOf(out));
    }

    boolean isEmpty() {
        return conditions.isEmpty();
    }

    /** True when every condition holds; the event's trees are read only as the conditions need them. */
    boolean matches(DecisionRequest request, Lazy event) {
        for (Condition c : conditions) {
            if (!holds(c, valueOf(c, request, event))) {
                return false;
            }
        }
        return true;
    }

    /** The event's trees, read at most once per event whatever the number of activities. */
    static final class Lazy {
        private final DecisionRequest request;
        private JsonNode xdm;
        private JsonNode data;

        Lazy(DecisionRequest request) {
            this.request = request;
        }

        JsonNode xdm() {
            if (xdm == null) {
                JsonNode read = request.xdm() == null ? null : request.xdm().get();
                xdm = read == null ? MissingNode.getInstance() : read;
            }
            return xdm;
        }

        JsonNode data() {
            if (data == null) {
                JsonNode read = request.data() == null ? null : request.data().get();
                data = read == null ? MissingNode.getInstance() : read;
            }
            return data;
        }
    }

    private static JsonNode valueOf(Condition c, DecisionRequest request, Lazy event) {
        switch (c.source()) {
            case XDM:
                return at(event.xdm(), c.path());
            case DATA:
                return at(event.data(), c.path());
            default:
                return contextValue(c.contextField(), request, event);
        }
    }

    private static JsonNode at(JsonNode root, String[] path) {
        JsonNode node = root;
        for (String p : path) {
            if (node == null) {
                return null;
            }
            node = node.isArray() && p.chars().allMatch(Character::isDigit) ? node.get(Integer.parseInt(p)) : node.get(p);
        }
        return node == null || node.isMissingNode() || node.isNull() ? null : node;
    }

    private static JsonNode contextValue(String field, DecisionRequest request, Lazy event) {
        var nodes = JsonNodeFactory.instance;
        switch (field) {
            case "userAgent":
                return request.userAgent() == null ? null : nodes.textNode(request.userAgent());
            case "pageUrl": {
                JsonNode url = at(event.xdm(), new String[] {"web", "webPageDetails", "URL"});
                return url != null ? url : request.referer() == null ? null : nodes.textNode(request.referer());
            }
            case "referrer":
                return at(event.xdm(), new String[] {"web", "webReferrer", "URL"});
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
