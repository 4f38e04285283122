package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventReader;

/**
 * The results of the activities from the stored events, read once in commit order: per activity
 * and experience the visitors shown it, the display and click notifications, and the visitors who
 * converted (an event of the conversion type by the same ECID after a display), with the
 * conversion rate's 95% Wilson interval and the lift against the first experience with the
 * two-sided p-value of a two-proportion z-test.
 *
 * <p>Only events whose bytes hold {@code "propositions"} or the conversion type are parsed: the
 * others are passed over with a byte search.
 */
public final class ExperimentReport {
    static final String DISPLAY = "decisioning.propositionDisplay";
    static final String INTERACT = "decisioning.propositionInteract";
    private static final double Z95 = 1.959963984540054;

    /** Counts of one experience. */
    public static final class Counts {
        final String activity;
        final String experience;
        long displays;
        long clicks;
        long visitors;
        long conversions;

        Counts(String activity, String experience) {
            this.activity = activity;
            this.experience = experience;
        }
    }

    /** What the report knows of one visitor: the experiences shown, those converted. */
    private static final class Visitor {
        int[] shown = new int[2];
        int count;
        BitSet converted;

        boolean add(int experience) {
            for (int i = 0; i < count; i++) {
                if (shown[i] == experience) {
                    return false;
                }
            }
            if (count == shown.length) {
                shown = Arrays.copyOf(shown, count * 2);
            }
            shown[count++] = experience;
            return true;
        }
    }

    private final String datastreamId;
    private final Needle conversionNeedle;
    private final String conversionType;
    private final Map<String, Integer> index = new HashMap<>();
    private final List<Counts> counts = new ArrayList<>();
    private final Map<String, Visitor> visitors = new HashMap<>();
    private long events;

    private ExperimentReport(String datastreamId, String conversionType) {
        this.datastreamId = datastreamId;
        this.conversionType = conversionType;
        this.conversionNeedle = new Needle(("\"" + conversionType + "\"").getBytes(StandardCharsets.UTF_8));
    }

    private static final Needle PROPOSITIONS = new Needle("\"propositions\"".getBytes(StandardCharsets.UTF_8));

    /**
     * Reads the store in {@code dataDir}; {@code datastreamId} null: every datastream.
     * {@code order}: activity id to its experience ids in the order written (the first is the
     * baseline); experiences it does not name come after, by id.
     */
    public static ObjectNode run(Path dataDir, String datastreamId, String conversionType,
                                 Map<String, List<String>> order) throws IOException {
        ExperimentReport report = new ExperimentReport(datastreamId, conversionType);
        EventReader.forEach(dataDir, null, report::accept);
        return report.result(order == null ? Map.of() : order);
    }

    private void accept(StoredEvent e) {
        if (datastreamId != null && !datastreamId.equals(e.datastreamId())) {
            return;
        }
        events++;
        byte[] json = e.eventJson();
        boolean propositions = PROPOSITIONS.in(json);
        if (!propositions && !conversionNeedle.in(json)) {
            return;
        }
        JsonNode xdm;
        try {
            xdm = EdgeJson.MAPPER.readTree(json).path("xdm");
        } catch (IOException ex) {
            return; // stored events are JSON; nothing to count in one that is not
        }
        String ecid = "ECID".equals(e.primaryNamespace()) ? e.primaryId() : xdm.at("/identityMap/ECID/0/id").asText(null);
        String eventType = xdm.path("eventType").asText("");
        JsonNode decisioning = xdm.path("_experience").path("decisioning");
        if (propositions && decisioning.path("propositions").isArray()) {
            JsonNode types = decisioning.path("propositionEventType");
            boolean display = DISPLAY.equals(eventType) || types.path("display").asInt() == 1;
            boolean interact = INTERACT.equals(eventType) || types.path("interact").asInt() == 1;
            for (JsonNode p : decisioning.get("propositions")) {
                String activity = p.at("/scopeDetails/activity/id").asText(null);
                String experience = p.at("/scopeDetails/experience/id").asText(null);
                if (activity == null || experience == null) {
                    continue;
                }
                int at = index.computeIfAbsent(activity + '\n' + experience, k -> {
                    counts.add(new Counts(activity, experience));
                    return counts.size() - 1;
                });
                Counts c = counts.get(at);
                if (display) {
                    c.displays++;
                    if (ecid != null && visitors.computeIfAbsent(ecid, k -> new Visitor()).add(at)) {
                        c.visitors++;
                    }
                }
                if (interact) {
                    c.clicks++;
                }
            }
        }
        if (ecid != null && conversionType.equals(eventType)) {
            Visitor v = visitors.get(ecid);
            if (v != null) {
                for (int i = 0; i < v.count; i++) {
                    if (v.converted == null) {
                        v.converted = new BitSet();
                    }
                    if (!v.converted.get(v.shown[i])) {
                        v.converted.set(v.shown[i]);
                        counts.get(v.shown[i]).conversions++;
                    }
                }
            }
        }
    }

    private ObjectNode result(Map<String, List<String>> order) {
        Map<String, List<Counts>> byActivity = new LinkedHashMap<>();
        counts.stream().sorted(Comparator.comparing((Counts c) -> c.activity))
                .forEach(c -> byActivity.computeIfAbsent(c.activity, k -> new ArrayList<>()).add(c));
        ObjectNode root = EdgeJson.MAPPER.createObjectNode();
        root.put("events", events);
        root.put("conversionEventType", conversionType);
        if (datastreamId != null) {
            root.put("datastreamId", datastreamId);
        }
        ArrayNode activities = root.putArray("activities");
        for (var entry : byActivity.entrySet()) {
            List<String> written = order.getOrDefault(entry.getKey(), List.of());
            List<Counts> list = entry.getValue();
            list.sort(Comparator.comparingInt((Counts c) -> written.contains(c.experience) ? written.indexOf(c.experience)
                    : Integer.MAX_VALUE).thenComparing(c -> c.experience));
            ObjectNode a = activities.addObject();
            a.put("id", entry.getKey());
            ArrayNode experiences = a.putArray("experiences");
            Counts base = list.get(0);
            for (Counts c : list) {
                ObjectNode x = experiences.addObject();
                x.put("id", c.experience);
                x.put("visitors", c.visitors);
                x.put("displays", c.displays);
                x.put("clicks", c.clicks);
                x.put("conversions", c.conversions);
                double rate = rate(c);
                x.put("conversionRate", rate);
                double[] wilson = wilson(c.conversions, c.visitors);
                x.putArray("interval").add(wilson[0]).add(wilson[1]);
                if (c == base || rate(base) == 0) {
                    x.putNull("lift");
                } else {
                    x.put("lift", (rate - rate(base)) / rate(base));
                }
                if (c == base) {
                    x.putNull("pValue");
                    x.put("significant", false);
                } else {
                    double p = twoProportionP(base.conversions, base.visitors, c.conversions, c.visitors);
                    if (Double.isNaN(p)) {
                        x.putNull("pValue");
                        x.put("significant", false);
                    } else {
                        x.put("pValue", p);
                        x.put("significant", p < 0.05);
                    }
                }
            }
        }
        return root;
    }

    private static double rate(Counts c) {
        return c.visitors == 0 ? 0 : (double) c.conversions / c.visitors;
    }

    /** The 95% Wilson score interval of {@code k} successes in {@code n}; [0, 0] when n is 0. */
    static double[] wilson(long k, long n) {
        if (n == 0) {
            return new double[] {0, 0};
        }
        double p = (double) k / n;
        double z2 = Z95 * Z95;
        double denominator = 1 + z2 / n;
        double center = (p + z2 / (2.0 * n)) / denominator;
        double half = Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denominator;
        return new double[] {Math.max(0, center - half), Math.min(1, center + half)};
    }

    /** Two-sided p-value of the pooled two-proportion z-test; NaN when it is undefined. */
    static double twoProportionP(long k0, long n0, long k1, long n1) {
        if (n0 == 0 || n1 == 0) {
            return Double.NaN;
        }
        double pooled = (double) (k0 + k1) / (n0 + n1);
        double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / n0 + 1.0 / n1));
        if (se == 0) {
            return Double.NaN;
        }
        double z = ((double) k1 / n1 - (double) k0 / n0) / se;
        return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
    }

    /** The standard normal distribution function (Abramowitz and Stegun 26.2.17, error below 1e-7). */
    static double normalCdf(double x) {
        double t = 1 / (1 + 0.2316419 * Math.abs(x));
        double poly = t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        double tail = Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI) * poly;
        return x >= 0 ? 1 - tail : tail;
    }

    /**
     * A Boyer-Moore-Horspool search: most positions are skipped by the needle's length, which
     * matters when every stored event is searched and few hold the needle.
     */
    static final class Needle {
        private final byte[] bytes;
        private final int[] skip = new int[256];

        Needle(byte[] bytes) {
            this.bytes = bytes;
            Arrays.fill(skip, bytes.length);
            for (int i = 0; i < bytes.length - 1; i++) {
                skip[bytes[i] & 0xFF] = bytes.length - 1 - i;
            }
        }

        boolean in(byte[] haystack) {
            int n = bytes.length;
            int last = n - 1;
            int at = 0;
            while (at <= haystack.length - n) {
                byte tail = haystack[at + last];
                if (tail == bytes[last]) {
                    int j = last - 1;
                    while (j >= 0 && haystack[at + j] == bytes[j]) {
                        j--;
                    }
                    if (j < 0) {
                        return true;
                    }
                }
                at += skip[tail & 0xFF];
            }
            return false;
        }
    }
}
