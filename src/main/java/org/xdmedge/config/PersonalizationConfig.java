package org.xdmedge.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code datastreams[].personalization:} the activities of one datastream, written inline
 * ({@code activities}) or in a file the edge watches ({@code activitiesFile}, relative to the
 * configuration's folder), and what the report counts as a conversion.
 */
public record PersonalizationConfig(List<ActivityConfig> activities, String activitiesFile, ConversionConfig conversion) {
    public PersonalizationConfig {
        activities = activities == null ? List.of() : List.copyOf(activities);
        conversion = conversion == null ? new ConversionConfig(null) : conversion;
    }

    /** The same block with {@code activitiesFile} made absolute against {@code baseDir}. */
    public PersonalizationConfig resolved(Path baseDir) {
        if (activitiesFile == null || activitiesFile.isBlank() || Path.of(activitiesFile).isAbsolute()) {
            return this;
        }
        return new PersonalizationConfig(activities, baseDir.resolve(activitiesFile).normalize().toString(), conversion);
    }

    /** {@code conversion:} the event type the report counts as a conversion. */
    public record ConversionConfig(String eventType) {
        public static final String DEFAULT_EVENT_TYPE = "commerce.purchases";

        public ConversionConfig {
            eventType = eventType == null ? DEFAULT_EVENT_TYPE : eventType;
        }
    }

    /** The top level of an activities file. */
    public record ActivitiesFile(List<ActivityConfig> activities) {
        public ActivitiesFile {
            activities = activities == null ? List.of() : List.copyOf(activities);
        }
    }

    /** {@code activities[]}: one activity, as written. */
    public record ActivityConfig(String id, String scope, Integer priority, List<ConditionConfig> audience,
                                 List<ExperienceConfig> experiences) {
        public ActivityConfig {
            priority = priority == null ? 0 : priority;
            audience = audience == null ? List.of() : List.copyOf(audience);
            experiences = experiences == null ? List.of() : List.copyOf(experiences);
        }
    }

    /** {@code audience[]}: one condition on a field of the event or of the request. */
    public record ConditionConfig(String field, String op, JsonNode value) {}

    /** {@code experiences[]}: one branch of an activity and its share of the visitors. */
    public record ExperienceConfig(String id, Integer weight, List<ItemConfig> items) {
        public ExperienceConfig {
            items = items == null ? List.of() : List.copyOf(items);
        }
    }

    /**
     * {@code items[]}: one piece of content. {@code action} is the dom action (and, for html items
     * with a {@code selector}, how alloy places the html).
     */
    public record ItemConfig(String id, String type, String action, String selector, String prehidingSelector,
                             JsonNode content) {}
}
