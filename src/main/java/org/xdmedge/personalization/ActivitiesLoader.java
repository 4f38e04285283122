package org.xdmedge.personalization;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.xdmedge.config.PersonalizationConfig.ActivitiesFile;
import org.xdmedge.config.PersonalizationConfig.ActivityConfig;
import org.xdmedge.config.PersonalizationConfig.ConditionConfig;
import org.xdmedge.config.PersonalizationConfig.ExperienceConfig;
import org.xdmedge.config.PersonalizationConfig.ItemConfig;
import org.xdmedge.config.PersonalizationConfig;
import org.xdmedge.config.YamlLines;

/**
 * Checks activities as written (in the configuration or in an activities file) and reads activities
 * files strictly: every problem names its key and line, so a broken file is refused, never half used.
 */
public final class ActivitiesLoader {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    /** Scopes: {@code __view__}, an mbox-like name, or a surface such as web://host/path or mobileapp://app/path. */
    private static final Pattern NAMED_SCOPE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._:/-]{0,249}");
    private static final Pattern SURFACE = Pattern.compile("(web|webapp|mobileapp)://[^\\s/#]+(/[^\\s#]*)?(#\\S+)?");
    private static final Pattern FIELD = Pattern.compile("(xdm|data)(\\.[^.\\s]+)+|context\\.[A-Za-z]+");

    private final ObjectMapper mapper = JsonMapper.builder(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    /**
     * Every problem of a datastream's {@code personalization:} block; {@code problem} gets the key
     * (below {@code at}) and the message. A named file is read and checked too.
     */
    public static void check(PersonalizationConfig config, String at, BiConsumer<String, String> problem) {
        if (config.activitiesFile() != null) {
            if (!config.activities().isEmpty()) {
                problem.accept(at + ".activitiesFile", "set either 'activities' or 'activitiesFile', not both");
            } else if (config.activitiesFile().isBlank()) {
                problem.accept(at + ".activitiesFile", "must name a YAML file");
            } else {
                try {
                    new ActivitiesLoader().readFile(Path.of(config.activitiesFile()));
                } catch (ActivitiesException e) {
                    problem.accept(at + ".activitiesFile", e.getMessage());
                }
            }
        }
        String conversion = config.conversion().eventType();
        if (conversion.isBlank() || conversion.length() > 256) {
            problem.accept(at + ".conversion.eventType", "must be an event type such as commerce.purchases");
        }
        problems(config.activities(), at + ".activities", problem);
    }

    /** Reads and checks an activities file ({@code activities: [...]}); the message names key and line. */
    public List<ActivityConfig> readFile(Path file) throws ActivitiesException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ActivitiesException("cannot read activities file " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** As {@link #readFile}, for the text of a file named {@code source}. */
    public List<ActivityConfig> parse(String text, String source) throws ActivitiesException {
        YamlLines lines = YamlLines.of(text);
        ActivitiesFile read;
        try {
            read = mapper.readValue(text, ActivitiesFile.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ActivitiesException(source + ": unknown key '" + YamlLines.pathOf(e) + "' at line " + line(lines, e)
                    + " (known keys here: " + e.getKnownPropertyIds() + ")", e);
        } catch (JsonMappingException e) {
            throw new ActivitiesException(source + ": invalid value for '" + YamlLines.pathOf(e) + "' at line " + line(lines, e)
                    + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new ActivitiesException(source + ": not valid YAML at line "
                    + (e.getLocation() == null ? 0 : e.getLocation().getLineNr()) + ": " + e.getOriginalMessage(), e);
        }
        List<ActivityConfig> activities = read == null ? List.of() : read.activities();
        List<String> problems = new ArrayList<>();
        problems(activities, "activities", (path, message) ->
                problems.add("'" + path + "' at line " + lines.lineOf(path) + ": " + message));
        if (!problems.isEmpty()) {
            throw new ActivitiesException(source + ": invalid activities:\n  " + String.join("\n  ", problems));
        }
        return activities;
    }

    /** The semantic checks of activities that already have the right shape. */
    static void problems(List<ActivityConfig> activities, String at, BiConsumer<String, String> problem) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < activities.size(); i++) {
            ActivityConfig a = activities.get(i);
            String ai = at + "[" + i + "]";
            if (a == null) {
                problem.accept(ai, "an activity must be a mapping");
                continue;
            }
            if (a.id() == null) {
                problem.accept(ai + ".id", "is required");
            } else if (!ID.matcher(a.id()).matches()) {
                problem.accept(ai + ".id", "must be letters, digits, '.', '_', ':' or '-' (at most 128)");
            } else if (!ids.add(a.id())) {
                problem.accept(ai + ".id", "duplicate activity '" + a.id() + "'");
            }
            if (a.scope() == null) {
                problem.accept(ai + ".scope", "is required: __view__, a named scope or a surface such as web://example.com/page");
            } else if (a.scope().contains("://") ? !SURFACE.matcher(a.scope()).matches()
                    : !NAMED_SCOPE.matcher(a.scope()).matches()) {
                problem.accept(ai + ".scope", "must be __view__, a named scope (letters, digits, '.', '_', ':', '/', '-') "
                        + "or a surface such as web://example.com/page or mobileapp://com.example.app/home");
            }
            for (int c = 0; c < a.audience().size(); c++) {
                conditionProblems(a.audience().get(c), ai + ".audience[" + c + "]", problem);
            }
            if (a.experiences().isEmpty()) {
                problem.accept(ai + ".experiences", "needs at least one experience");
            }
            Set<String> experienceIds = new HashSet<>();
            long total = 0;
            for (int e = 0; e < a.experiences().size(); e++) {
                ExperienceConfig x = a.experiences().get(e);
                String xe = ai + ".experiences[" + e + "]";
                if (x == null) {
                    problem.accept(xe, "an experience must be a mapping");
                    continue;
                }
                if (x.id() == null) {
                    problem.accept(xe + ".id", "is required");
                } else if (!ID.matcher(x.id()).matches()) {
                    problem.accept(xe + ".id", "must be letters, digits, '.', '_', ':' or '-' (at most 128)");
                } else if (!experienceIds.add(x.id())) {
                    problem.accept(xe + ".id", "duplicate experience '" + x.id() + "'");
                }
                if (x.weight() == null) {
                    problem.accept(xe + ".weight", "is required (a share of the visitors, 0 to 100)");
                } else if (x.weight() < 0 || x.weight() > 100) {
                    problem.accept(xe + ".weight", "must be between 0 and 100");
                } else {
                    total += x.weight();
                }
                for (int t = 0; t < x.items().size(); t++) {
                    itemProblems(x.items().get(t), xe + ".items[" + t + "]", problem);
                }
            }
            if (!a.experiences().isEmpty() && total != 100 && a.experiences().stream().allMatch(x -> x != null && x.weight() != null)) {
                problem.accept(ai + ".experiences", "the weights add up to " + total + ", not 100");
            }
        }
    }

    private static void conditionProblems(ConditionConfig c, String at, BiConsumer<String, String> problem) {
        if (c == null) {
            problem.accept(at, "a condition must be a mapping {field, op, value}");
            return;
        }
        if (c.field() == null) {
            problem.accept(at + ".field", "is required");
        } else if (!FIELD.matcher(c.field()).matches()) {
            problem.accept(at + ".field", "must be xdm.<path>, data.<path> or one of context."
                    + String.join(", context.", Audience.CONTEXT_FIELDS));
        } else if (c.field().startsWith("context.") && !Audience.CONTEXT_FIELDS.contains(c.field().substring(8))) {
            problem.accept(at + ".field", "unknown context field; known: context." + String.join(", context.", Audience.CONTEXT_FIELDS));
        }
        Audience.Op op = c.op() == null ? null : Audience.Op.named(c.op());
        if (c.op() == null) {
            problem.accept(at + ".op", "is required");
        } else if (op == null) {
            problem.accept(at + ".op", "must be one of " + Audience.Op.names());
        } else {
            String why = op.valueProblem(c.value());
            if (why != null) {
                problem.accept(at + ".value", why);
            }
        }
    }

    private static void itemProblems(ItemConfig item, String at, BiConsumer<String, String> problem) {
        if (item == null) {
            problem.accept(at, "an item must be a mapping");
            return;
        }
        ItemType type = item.type() == null ? null : ItemType.named(item.type());
        if (item.type() == null) {
            problem.accept(at + ".type", "is required: one of " + ItemType.names());
            return;
        }
        if (type == null) {
            problem.accept(at + ".type", "must be one of " + ItemType.names());
            return;
        }
        if (item.id() != null && !ID.matcher(item.id()).matches()) {
            problem.accept(at + ".id", "must be letters, digits, '.', '_', ':' or '-' (at most 128)");
        }
        switch (type) {
            case DOM_ACTION -> {
                if (item.action() == null) {
                    problem.accept(at + ".action", "is required for a dom-action: one of " + ItemType.DOM_ACTIONS);
                } else if (!ItemType.DOM_ACTIONS.contains(item.action())) {
                    problem.accept(at + ".action", "must be one of " + ItemType.DOM_ACTIONS);
                }
                if (item.selector() == null || item.selector().isBlank()) {
                    problem.accept(at + ".selector", "is required for a dom-action (a CSS selector)");
                }
                if (item.content() == null && !"remove".equals(item.action())) {
                    problem.accept(at + ".content", "is required for a dom-action '" + item.action() + "'");
                }
            }
            case HTML -> {
                if (item.content() == null || !item.content().isTextual()) {
                    problem.accept(at + ".content", "an html item's content is a string of HTML");
                }
                if (item.action() != null && !ItemType.HTML_ACTIONS.contains(item.action())) {
                    problem.accept(at + ".action", "an html item's action must be one of " + ItemType.HTML_ACTIONS);
                }
                if (item.action() != null && item.selector() == null) {
                    problem.accept(at + ".selector", "is required with an action (where alloy puts the html)");
                }
            }
            case JSON -> {
                if (item.content() == null || !(item.content().isObject() || item.content().isArray())) {
                    problem.accept(at + ".content", "a json item's content is an object or an array");
                }
            }
            case REDIRECT -> {
                if (item.content() == null || !item.content().isTextual()
                        || !item.content().asText().matches("https?://\\S+")) {
                    problem.accept(at + ".content", "a redirect item's content is an http(s) URL");
                }
            }
        }
        if (type != ItemType.DOM_ACTION && type != ItemType.HTML && (item.action() != null || item.selector() != null)) {
            problem.accept(at, "'action' and 'selector' belong to dom-action and html items");
        }
    }

    private static int line(YamlLines lines, JsonMappingException e) {
        int line = lines.lineOf(YamlLines.pathOf(e));
        return line != 0 ? line : e.getLocation() == null ? 0 : e.getLocation().getLineNr();
    }
}
