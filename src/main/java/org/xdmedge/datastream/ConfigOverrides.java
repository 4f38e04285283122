package org.xdmedge.datastream;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem.FieldError;
import org.xdmedge.protocol.EdgeProblem;

/**
 * Applies a request's {@code meta.configOverrides} to its datastream. Only values the datastream
 * pre-registered are accepted (the event dataset must be the datastream's own or one of its
 * {@code allowedDatasets}); anything else is 400 EXEG-0113-400 naming every bad path.
 *
 * <p>{@code {"enabled": false}} turns a service off for the request. The Adobe services this edge
 * does not run (Analytics, Target, Audience Manager, Identity sync...) have nothing to override here:
 * their sections are checked for shape and otherwise ignored, so pages written for Adobe's edge work.
 */
public final class ConfigOverrides {
    public static final String PLATFORM = "com_adobe_experience_platform";
    private static final String PATH = "meta.configOverrides";

    private ConfigOverrides() {}

    public static RequestConfig apply(Datastream datastream, JsonNode meta) {
        JsonNode overrides = meta == null ? null : meta.get("configOverrides");
        if (overrides == null || overrides.isNull()) {
            return RequestConfig.of(datastream);
        }
        List<FieldError> errors = new ArrayList<>();
        if (!overrides.isObject()) {
            throw invalid(List.of(new FieldError(PATH, "'configOverrides' must be an object of service sections")));
        }
        String dataset = datastream.dataset();
        boolean platformEnabled = true;
        Set<String> disabled = new TreeSet<>();
        Iterator<Map.Entry<String, JsonNode>> services = overrides.fields();
        while (services.hasNext()) {
            var service = services.next();
            String path = PATH + "." + service.getKey();
            JsonNode section = service.getValue();
            if (section == null || section.isNull()) {
                continue;
            }
            if (!section.isObject()) {
                errors.add(new FieldError(path, "a service override must be an object"));
                continue;
            }
            JsonNode enabled = section.get("enabled");
            if (enabled != null && !enabled.isNull()) {
                if (!enabled.isBoolean()) {
                    errors.add(new FieldError(path + ".enabled", "'enabled' must be true or false"));
                } else if (!enabled.booleanValue()) {
                    disabled.add(service.getKey());
                }
            }
            if (service.getKey().equals(PLATFORM)) {
                String chosen = eventDataset(datastream, section, path, errors);
                if (chosen != null) {
                    dataset = chosen;
                }
                if (disabled.contains(PLATFORM)) {
                    platformEnabled = false;
                }
            }
        }
        if (!errors.isEmpty()) {
            throw invalid(errors);
        }
        return new RequestConfig(dataset, platformEnabled, Set.copyOf(disabled));
    }

    /** {@code datasets.event.datasetId}: the dataset for this request's events, if the datastream allows it. */
    private static String eventDataset(Datastream datastream, JsonNode section, String path, List<FieldError> errors) {
        JsonNode datasets = section.get("datasets");
        if (datasets == null || datasets.isNull()) {
            return null;
        }
        if (!datasets.isObject()) {
            errors.add(new FieldError(path + ".datasets", "'datasets' must be an object"));
            return null;
        }
        String chosen = null;
        var kinds = datasets.fields();
        while (kinds.hasNext()) {
            var kind = kinds.next();
            String kindPath = path + ".datasets." + kind.getKey();
            if (!kind.getValue().isObject()) {
                errors.add(new FieldError(kindPath, "must be an object with a 'datasetId'"));
                continue;
            }
            JsonNode id = kind.getValue().get("datasetId");
            if (id == null || id.isNull()) {
                continue;
            }
            if (!id.isTextual() || id.asText().isEmpty()) {
                errors.add(new FieldError(kindPath + ".datasetId", "'datasetId' must be a non-empty string"));
                continue;
            }
            String value = id.asText();
            boolean allowed = value.equals(datastream.dataset()) || datastream.allowedDatasets().contains(value);
            if (!allowed) {
                errors.add(new FieldError(kindPath + ".datasetId", "dataset '" + shorten(value)
                        + "' is not among the datastream's allowed override datasets"));
            } else if (kind.getKey().equals("event")) {
                chosen = value;
            }
            // A profile dataset is accepted when allowed; this edge keeps no profiles, so it changes nothing.
        }
        return chosen;
    }

    private static EdgeProblem invalid(List<FieldError> errors) {
        String detail = errors.size() == 1 ? errors.get(0).message() + " (" + errors.get(0).path() + ")"
                : errors.size() + " configuration overrides are invalid; see report.errors";
        return new EdgeProblem(EdgeError.INVALID_OVERRIDES, detail, Map.of(), errors, null);
    }

    private static String shorten(String value) {
        return value.length() > 128 ? value.substring(0, 128) + "…" : value;
    }
}
