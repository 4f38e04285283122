package org.xdmedge.consent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem.FieldError;
import org.xdmedge.protocol.EdgeProblem;

/**
 * Reads the {@code consent} array of a set-consent request and decides {@code in} or {@code out}.
 *
 * <ul>
 *   <li>{@code Adobe 1.0}: {@code value.general} is {@code in} or {@code out}.</li>
 *   <li>{@code Adobe 2.0}: {@code value.collect.val} {@code y} is in, {@code n} is out.</li>
 *   <li>{@code IAB TCF 2.0}: {@code gdprApplies: false} is in; otherwise the TC string is decoded and
 *       consent needs purpose 1 (store and access information) and the datastream's vendor.</li>
 * </ul>
 * Several entries combine: any {@code out} wins. Every problem of the array is reported at once:
 * a missing field or a wrong JSON type gives 400 EXEG-0102-400, otherwise values that cannot be
 * honoured (unknown standard or version, unknown choice, undecodable TC string) give 422 EXEG-0104-422.
 */
public final class ConsentPayloads {
    public static final String ADOBE = "Adobe";
    public static final String IAB = "IAB TCF";
    private static final int MAX_ENTRIES = 32;
    /** Choices Adobe 2.0 allows in a purpose's {@code val}. */
    private static final Set<String> ADOBE2_VALUES = Set.of("y", "n", "p", "u", "dy", "dn", "LI", "CT", "CP", "VI");

    private ConsentPayloads() {}

    public static ConsentRecord decide(JsonNode consent, int iabVendorId, long nowMillis) {
        Problems problems = new Problems();
        if (consent == null || !consent.isArray()) {
            problems.shape("consent", "'consent' must be an array of {standard, version, value} objects");
            throw problems.toProblem();
        }
        if (consent.isEmpty()) {
            problems.shape("consent", "'consent' must contain at least one entry");
        }
        if (consent.size() > MAX_ENTRIES) {
            problems.value("consent", "at most " + MAX_ENTRIES + " consent entries per request");
            throw problems.toProblem();
        }
        boolean out = false;
        ObjectNode adobe2 = null;
        for (int i = 0; i < consent.size(); i++) {
            String path = "consent[" + i + "]";
            JsonNode entry = consent.get(i);
            if (!entry.isObject()) {
                problems.shape(path, "a consent entry must be an object");
                continue;
            }
            String standard = text(entry, "standard", path, problems);
            String version = text(entry, "version", path, problems);
            JsonNode value = entry.get("value");
            if (value == null || value.isNull()) {
                problems.shape(path + ".value", "the consent 'value' is required");
                continue;
            }
            if (standard == null || version == null) {
                continue;
            }
            Consent decided;
            if (standard.equals(ADOBE) && version.equals("1.0")) {
                decided = adobe1(value, path + ".value", problems);
            } else if (standard.equals(ADOBE) && version.equals("2.0")) {
                decided = adobe2(value, path + ".value", problems);
                if (decided != null && adobe2 == null) {
                    adobe2 = (ObjectNode) value.deepCopy();
                }
            } else if (standard.equals(IAB) && version.equals("2.0")) {
                decided = iab(entry, value, path, iabVendorId, problems);
            } else {
                problems.value(path + ".standard", "unsupported consent standard '" + shorten(standard) + "' version '"
                        + shorten(version) + "'; use Adobe 1.0, Adobe 2.0 or IAB TCF 2.0");
                continue;
            }
            if (decided == Consent.OUT) {
                out = true;
            }
        }
        problems.throwIfAny();
        Consent decision = out ? Consent.OUT : Consent.IN;
        ObjectNode preferences = adobe2 != null && !out ? adobe2 : EdgeJson.MAPPER.createObjectNode();
        if (adobe2 == null || out) {
            preferences.putObject("collect").put("val", out ? "n" : "y");
        }
        if (!preferences.has("metadata")) {
            preferences.putObject("metadata").put("time", Instant.ofEpochMilli(nowMillis).toString());
        }
        return new ConsentRecord(decision, preferences, nowMillis);
    }

    private static Consent adobe1(JsonNode value, String path, Problems problems) {
        if (!value.isObject()) {
            problems.shape(path, "an Adobe 1.0 value must be an object like {\"general\": \"in\"}");
            return null;
        }
        JsonNode general = value.get("general");
        if (general == null || general.isNull()) {
            problems.shape(path + ".general", "'general' is required");
            return null;
        }
        if (!general.isTextual()) {
            problems.shape(path + ".general", "'general' must be the string \"in\" or \"out\"");
            return null;
        }
        return switch (general.asText()) {
            case "in" -> Consent.IN;
            case "out" -> Consent.OUT;
            default -> {
                problems.value(path + ".general", "'general' must be \"in\" or \"out\"");
                yield null;
            }
        };
    }

    private static Consent adobe2(JsonNode value, String path, Problems problems) {
        if (!value.isObject()) {
            problems.shape(path, "an Adobe 2.0 value must be an object like {\"collect\": {\"val\": \"y\"}}");
            return null;
        }
        Consent decided = null;
        var purposes = value.fields();
        while (purposes.hasNext()) {
            var purpose = purposes.next();
            String purposePath = path + "." + purpose.getKey();
            if (purpose.getKey().equals("metadata")) {
                JsonNode time = purpose.getValue().get("time");
                if (!purpose.getValue().isObject()) {
                    problems.shape(purposePath, "'metadata' must be an object");
                } else if (time != null && !time.isNull() && !time.isTextual()) {
                    problems.shape(purposePath + ".time", "'time' must be an ISO-8601 date-time string");
                }
                continue;
            }
            if (!purpose.getValue().isObject()) {
                problems.shape(purposePath, "a purpose must be an object like {\"val\": \"y\"}");
                continue;
            }
            String val = purposeValue(purpose.getValue(), purposePath, problems);
            if (purpose.getKey().equals("collect") && val != null) {
                if (val.equals("y")) {
                    decided = Consent.IN;
                } else if (val.equals("n")) {
                    decided = Consent.OUT;
                } else {
                    problems.value(purposePath + ".val", "collect.val must be \"y\" or \"n\"");
                }
            }
        }
        if (!value.has("collect")) {
            problems.shape(path + ".collect", "'collect' is required");
        }
        return decided;
    }

    /** Purposes other than collect may nest (e.g. {@code personalize.content}); every {@code val} is checked. */
    private static String purposeValue(JsonNode purpose, String path, Problems problems) {
        String found = null;
        var fields = purpose.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            if (field.getKey().equals("val")) {
                if (!field.getValue().isTextual()) {
                    problems.shape(path + ".val", "'val' must be a string");
                } else if (!ADOBE2_VALUES.contains(field.getValue().asText())) {
                    problems.value(path + ".val", "unknown choice '" + shorten(field.getValue().asText())
                            + "'; expected one of " + new TreeSet<>(ADOBE2_VALUES));
                } else {
                    found = field.getValue().asText();
                }
            } else if (field.getValue().isObject()) {
                purposeValue(field.getValue(), path + "." + field.getKey(), problems);
            }
        }
        return found;
    }

    private static Consent iab(JsonNode entry, JsonNode value, String path, int vendorId, Problems problems) {
        JsonNode applies = entry.get("gdprApplies");
        boolean gdprApplies = true;
        if (applies != null && !applies.isNull()) {
            if (!applies.isBoolean()) {
                problems.shape(path + ".gdprApplies", "'gdprApplies' must be true or false");
                return null;
            }
            gdprApplies = applies.booleanValue();
        }
        JsonNode personal = entry.get("gdprContainsPersonalData");
        if (personal != null && !personal.isNull() && !personal.isBoolean()) {
            problems.shape(path + ".gdprContainsPersonalData", "'gdprContainsPersonalData' must be true or false");
        }
        if (!value.isTextual()) {
            problems.shape(path + ".value", "an IAB TCF 2.0 value must be the TC string");
            return null;
        }
        TcString tc;
        try {
            tc = TcStringDecoder.decode(value.asText());
        } catch (TcStringDecoder.InvalidTcStringException e) {
            problems.value(path + ".value", "the TC string cannot be decoded: " + e.getMessage());
            return null;
        }
        if (!gdprApplies) {
            return Consent.IN;
        }
        return tc.purposeConsent(1) && tc.vendorConsent(vendorId) ? Consent.IN : Consent.OUT;
    }

    private static String text(JsonNode entry, String field, String path, Problems problems) {
        JsonNode node = entry.get(field);
        if (node == null || node.isNull()) {
            problems.shape(path + "." + field, "'" + field + "' is required");
            return null;
        }
        if (!node.isTextual()) {
            problems.shape(path + "." + field, "'" + field + "' must be a string");
            return null;
        }
        return node.asText();
    }

    private static String shorten(String value) {
        return value.length() > 64 ? value.substring(0, 64) + "…" : value;
    }

    /** Every problem of the array; shape problems decide the status. */
    private static final class Problems {
        private final List<FieldError> list = new ArrayList<>();
        private boolean shape;

        void shape(String path, String message) {
            shape = true;
            add(path, message);
        }

        void value(String path, String message) {
            add(path, message);
        }

        private void add(String path, String message) {
            if (list.size() < 100) {
                list.add(new FieldError(path, message));
            }
        }

        void throwIfAny() {
            if (!list.isEmpty()) {
                throw toProblem();
            }
        }

        EdgeProblem toProblem() {
            EdgeError error = shape ? EdgeError.INVALID_FIELD : EdgeError.VALIDATION_REPORT;
            String detail = list.size() == 1 ? list.get(0).message() + " (" + list.get(0).path() + ")"
                    : list.size() + " consent problems; see report.errors";
            return new EdgeProblem(error, detail, Map.of(), list, null);
        }
    }
}
