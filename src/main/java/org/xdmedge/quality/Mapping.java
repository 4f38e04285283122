package org.xdmedge.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import org.xdmedge.config.MappingRuleConfig;

/**
 * A datastream's {@code mapping:} rules, compiled once: each reads a value of the event's
 * {@code data} or {@code xdm}, converts it and writes it to an {@code xdm} path, in the order
 * written. A value a rule cannot convert is not written and becomes a {@link Violation} with the
 * keyword {@code mapping}; a missing source writes the rule's {@code default} when it has one.
 */
public final class Mapping {
    /** The conversions a rule may name with {@code fn}. */
    public enum Fn { COPY, LOWER, UPPER, TRIM, TONUMBER, TOBOOLEAN, SHA256, CONCAT, DATE }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    public static final Mapping NONE = new Mapping(List.of());

    private record Rule(List<FieldPath> from, FieldPath to, Fn fn, boolean lower, String separator,
                        JsonNode defaultValue, DateTimeFormatter format, String epochUnit, ZoneId zone) {}

    private final List<Rule> rules;

    private Mapping(List<Rule> rules) {
        this.rules = rules;
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /**
     * Compiles {@code configs}; every mistake is reported to {@code problems} as (key path relative
     * to {@code at}, message), and the rule with it is left out.
     */
    public static Mapping compile(List<MappingRuleConfig> configs, String at, BiConsumer<String, String> problems) {
        if (configs == null || configs.isEmpty()) {
            return NONE;
        }
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            Rule rule = compile(configs.get(i), at + "[" + i + "]", problems);
            if (rule != null) {
                rules.add(rule);
            }
        }
        return new Mapping(List.copyOf(rules));
    }

    /** Reports problems and remembers whether there was any. */
    private static final class Report {
        private final BiConsumer<String, String> problems;
        private boolean ok = true;

        Report(BiConsumer<String, String> problems) {
            this.problems = problems;
        }

        void add(String path, String message) {
            problems.accept(path, message);
            ok = false;
        }
    }

    /** What a date rule reads: an ISO text (both null), epoch numbers ({@code epochUnit}) or a pattern. */
    private record DateSettings(DateTimeFormatter format, String epochUnit, ZoneId zone) {}

    private static Rule compile(MappingRuleConfig c, String at, BiConsumer<String, String> problems) {
        if (c == null) {
            problems.accept(at, "must be a rule such as { from: data.x, to: xdm.y }");
            return null;
        }
        Report report = new Report(problems);
        Fn fn = fnOf(c, at, report);
        FieldPath to = toPath(c, at, report);
        List<FieldPath> from = fromPaths(c, fn, at, report);
        optionProblems(c, fn, at, report);
        DateSettings date = dateSettings(c, fn, at, report);
        if (!report.ok) {
            return null;
        }
        return new Rule(List.copyOf(from), to, fn, Boolean.TRUE.equals(c.lower()),
                c.separator() == null ? "" : c.separator(), c.defaultValue(), date.format(), date.epochUnit(), date.zone());
    }

    private static Fn fnOf(MappingRuleConfig c, String at, Report report) {
        if (c.fn() == null) {
            return Fn.COPY;
        }
        try {
            return Fn.valueOf(c.fn().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            report.add(at + ".fn", "must be one of copy, lower, upper, trim, toNumber, toBoolean, sha256, concat, date");
            return Fn.COPY;
        }
    }

    private static FieldPath toPath(MappingRuleConfig c, String at, Report report) {
        try {
            FieldPath to = FieldPath.parse(c.to());
            if (to.root() != FieldPath.Root.XDM) {
                report.add(at + ".to", "must be an xdm path (xdm.…): mapping writes the event's xdm");
            }
            return to;
        } catch (IllegalArgumentException e) {
            report.add(at + ".to", c.to() == null ? "is required" : e.getMessage());
            return null;
        }
    }

    private static List<FieldPath> fromPaths(MappingRuleConfig c, Fn fn, String at, Report report) {
        List<FieldPath> from = new ArrayList<>();
        JsonNode fromNode = c.from();
        if (fromNode == null || fromNode.isNull()) {
            if (c.defaultValue() == null) {
                report.add(at + ".from", "is required (or give a default value to set)");
            }
        } else if (fromNode.isTextual() || fromNode.isArray()) {
            List<JsonNode> items = new ArrayList<>();
            if (fromNode.isTextual()) {
                items.add(fromNode);
            } else {
                fromNode.forEach(items::add);
            }
            for (int j = 0; j < items.size(); j++) {
                String where = at + ".from" + (fromNode.isArray() ? "[" + j + "]" : "");
                if (!items.get(j).isTextual()) {
                    report.add(where, "must be a path such as data.email");
                    continue;
                }
                try {
                    from.add(FieldPath.parse(items.get(j).asText()));
                } catch (IllegalArgumentException e) {
                    report.add(where, e.getMessage());
                }
            }
            if (fromNode.isArray() && fn != Fn.CONCAT) {
                report.add(at + ".from", "a list of paths is for fn: concat; give one path");
            }
        } else {
            report.add(at + ".from", "must be a path, or a list of paths for fn: concat");
        }
        if (fn == Fn.CONCAT && (fromNode == null || !fromNode.isArray())) {
            report.add(at + ".from", "fn: concat takes a list of paths, such as [data.first, data.last]");
        }
        return from;
    }

    /** Options that belong to another function than the rule's. */
    private static void optionProblems(MappingRuleConfig c, Fn fn, String at, Report report) {
        if (c.lower() != null && fn != Fn.SHA256) {
            report.add(at + ".lower", "applies to fn: sha256 only (use fn: lower to lower-case a value)");
        }
        if (c.separator() != null && fn != Fn.CONCAT) {
            report.add(at + ".separator", "applies to fn: concat only");
        }
        if ((c.format() != null || c.zone() != null) && fn != Fn.DATE) {
            report.add(at + (c.format() != null ? ".format" : ".zone"), "applies to fn: date only");
        }
    }

    private static DateSettings dateSettings(MappingRuleConfig c, Fn fn, String at, Report report) {
        DateTimeFormatter format = null;
        String epochUnit = null;
        ZoneId zone = ZoneOffset.UTC;
        if (fn != Fn.DATE) {
            return new DateSettings(null, null, zone);
        }
        if (c.format() != null && (c.format().equals("epochMillis") || c.format().equals("epochSeconds"))) {
            epochUnit = c.format();
        } else if (c.format() != null && !c.format().equals("iso")) {
            try {
                format = DateTimeFormatter.ofPattern(c.format(), Locale.ROOT);
            } catch (IllegalArgumentException e) {
                report.add(at + ".format", "is not a date pattern (" + e.getMessage()
                        + "); write one such as \"dd/MM/yyyy HH:mm\", or iso, epochMillis, epochSeconds");
            }
        }
        if (c.zone() != null) {
            try {
                zone = ZoneId.of(c.zone());
            } catch (DateTimeException e) {
                report.add(at + ".zone", "is not a time zone such as UTC or Europe/Paris");
            }
        }
        return new DateSettings(format, epochUnit, zone);
    }

    /** What the rules did to one event: the values they could not map, and whether they wrote (or tried to write) any. */
    public record Result(List<Violation> violations, boolean wrote) {
        static final Result NOTHING = new Result(List.of(), false);
    }

    /** Runs every rule over one event, changing {@code xdm}. */
    public Result apply(ObjectNode xdm, JsonNode data) {
        List<Violation> violations = null;
        boolean wrote = false;
        for (Rule rule : rules) {
            JsonNode value;
            try {
                value = value(rule, xdm, data);
            } catch (IllegalArgumentException e) {
                violations = add(violations, new Violation(rule.to().toString(), "mapping", e.getMessage()));
                continue;
            }
            if (value == null) {
                continue;
            }
            wrote = true; // a refused write may still have made objects on its way
            if (!rule.to().set(xdm, value)) {
                violations = add(violations, new Violation(rule.to().toString(), "mapping",
                        "cannot write " + rule.to() + ": a field on its way is not an object or array"));
            }
        }
        return violations == null && !wrote ? Result.NOTHING
                : new Result(violations == null ? List.of() : violations, wrote);
    }

    /** Whether a rule reads the event's {@code data}: when none does, the rules need no tree of it. */
    public boolean readsData() {
        for (Rule rule : rules) {
            for (FieldPath from : rule.from()) {
                if (from.root() == FieldPath.Root.DATA) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<Violation> add(List<Violation> list, Violation v) {
        List<Violation> out = list == null ? new ArrayList<>() : list;
        out.add(v);
        return out;
    }

    /** The value the rule writes; null when there is nothing to write. */
    private static JsonNode value(Rule rule, ObjectNode xdm, JsonNode data) {
        if (rule.fn() == Fn.CONCAT) {
            StringBuilder joined = null;
            for (FieldPath path : rule.from()) {
                JsonNode part = path.get(xdm, data);
                if (part == null) {
                    continue;
                }
                joined = joined == null ? new StringBuilder() : joined.append(rule.separator());
                joined.append(scalarText(part, path, "concat"));
            }
            return joined != null ? NODES.textNode(joined.toString()) : rule.defaultValue();
        }
        FieldPath from = rule.from().isEmpty() ? null : rule.from().get(0);
        JsonNode source = from == null ? null : from.get(xdm, data);
        if (source == null) {
            return rule.defaultValue() == null ? null : rule.defaultValue().deepCopy();
        }
        return switch (rule.fn()) {
            case COPY -> source.deepCopy();
            case LOWER -> NODES.textNode(scalarText(source, from, "lower").toLowerCase(Locale.ROOT));
            case UPPER -> NODES.textNode(scalarText(source, from, "upper").toUpperCase(Locale.ROOT));
            case TRIM -> NODES.textNode(scalarText(source, from, "trim").strip());
            case TONUMBER -> number(source, from);
            case TOBOOLEAN -> bool(source, from);
            case SHA256 -> {
                String text = scalarText(source, from, "sha256");
                yield NODES.textNode(sha256(rule.lower() ? text.strip().toLowerCase(Locale.ROOT) : text));
            }
            case DATE -> NODES.textNode(date(rule, source, from));
            case CONCAT -> throw new IllegalStateException();
        };
    }

    private static String scalarText(JsonNode value, FieldPath from, String fn) {
        if (!value.isValueNode()) {
            throw new IllegalArgumentException("fn " + fn + " needs a text, number or boolean at " + from
                    + ", found " + (value.isArray() ? "an array" : "an object"));
        }
        return value.asText();
    }

    private static JsonNode number(JsonNode value, FieldPath from) {
        if (value.isNumber()) {
            return value;
        }
        if (value.isTextual()) {
            String text = value.asText().strip();
            try {
                BigDecimal number = new BigDecimal(text);
                if (number.scale() <= 0 && number.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0) {
                    return NODES.numberNode(number.longValueExact());
                }
                double d = number.doubleValue();
                if (Double.isFinite(d) && new BigDecimal(Double.toString(d)).compareTo(number) == 0) {
                    return NODES.numberNode(d);
                }
                return NODES.numberNode(number);
            } catch (NumberFormatException | ArithmeticException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("fn toNumber cannot read " + shown(value) + " at " + from + " as a number");
    }

    private static JsonNode bool(JsonNode value, FieldPath from) {
        if (value.isBoolean()) {
            return value;
        }
        String text = value.isTextual() ? value.asText().strip().toLowerCase(Locale.ROOT)
                : value.isIntegralNumber() ? value.asText() : null;
        if (text != null) {
            switch (text) {
                case "true", "yes", "y", "on", "1": return NODES.booleanNode(true);
                case "false", "no", "n", "off", "0": return NODES.booleanNode(false);
                default: break;
            }
        }
        throw new IllegalArgumentException("fn toBoolean cannot read " + shown(value) + " at " + from
                + " as a boolean (true/false, yes/no, 1/0)");
    }

    private static String date(Rule rule, JsonNode value, FieldPath from) {
        try {
            if (rule.epochUnit() != null || (rule.format() == null && value.isNumber())) {
                if (!value.isNumber() && !(value.isTextual() && value.asText().strip().matches("-?[0-9]{1,19}"))) {
                    throw new IllegalArgumentException("fn date needs epoch " + (rule.epochUnit() == null ? "milliseconds" : rule.epochUnit().substring(5).toLowerCase(Locale.ROOT)) + " at " + from + ", found " + shown(value));
                }
                long n = value.isNumber() ? value.asLong() : Long.parseLong(value.asText().strip());
                return ("epochSeconds".equals(rule.epochUnit()) ? Instant.ofEpochSecond(n) : Instant.ofEpochMilli(n)).toString();
            }
            if (!value.isTextual()) {
                throw new IllegalArgumentException("fn date needs a text at " + from + ", found " + shown(value));
            }
            String text = value.asText().strip();
            if (rule.format() == null) {
                TemporalAccessor parsed = DateTimeFormatter.ISO_DATE_TIME.parseBest(text, ZonedDateTime::from, LocalDateTime::from);
                return iso(parsed, rule.zone());
            }
            TemporalAccessor parsed = rule.format().parseBest(text, ZonedDateTime::from, LocalDateTime::from, LocalDate::from);
            return iso(parsed, rule.zone());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("fn date cannot read " + shown(value) + " at " + from
                    + (rule.format() == null ? " as an ISO-8601 date-time" : " with the format given"));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("fn date cannot read " + shown(value) + " at " + from + ": " + e.getMessage());
        }
    }

    /** An instant in UTC ({@code 2026-03-01T09:30:00Z}) when the text has a time, else the date ({@code 2026-03-01}). */
    private static String iso(TemporalAccessor parsed, ZoneId zone) {
        if (parsed instanceof ZonedDateTime z) {
            return z.toInstant().toString();
        }
        if (parsed instanceof LocalDateTime local) {
            return local.atZone(zone).toInstant().toString();
        }
        return ((LocalDate) parsed).toString();
    }

    private static String shown(JsonNode value) {
        String text = value.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
