package org.xdmedge.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.personalization.Assignment;
import org.xdmedge.store.log.EventLogStore;

/**
 * Fills an embedded store with a shop's visitors under three activities, for timing {@code xdm-edge
 * report} on a store of millions of events: per visitor 3-11 page views (the bench's ~1.5 KB event,
 * with the visitor's ECID), after most of them a display notification as alloy sends it (one or two
 * propositions, the experience assigned as the edge assigns it), a click after some displays, and a
 * purchase ({@code commerce.purchases}) by some visitors. Written through the store's API 50 events
 * a request, 64 requests in flight. Prints what the report must count, per activity and experience,
 * as JSON.
 *
 * <p>Usage: {@code ExperimentStore DATA_DIR EVENTS}.
 */
public final class ExperimentStore {
    private static final String[][] ACTIVITIES = {{"hero-banner", "__view__", "a", "b"},
            {"checkout-offer", "checkout-offer", "only"}, {"pdp-gallery", "__view__", "a", "b", "c"}};
    private static final int[][] WEIGHTS = {{50, 50}, {100}, {34, 33, 33}};

    /** Expected counts of one experience. */
    private static final class Counts {
        long visitors;
        long displays;
        long clicks;
        long conversions;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long target = Long.parseLong(args[1]);
        Random random = new Random(20261208L);
        byte[][] views = new byte[1024][];
        for (int i = 0; i < views.length; i++) {
            views[i] = Bodies.event(false, random).getBytes(StandardCharsets.UTF_8);
        }
        Map<String, Counts> expected = new TreeMap<>();
        long written = 0;
        long visitors = 0;
        long t0 = System.nanoTime();
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS)) {
            ArrayDeque<CompletableFuture<WriteResult>> pending = new ArrayDeque<>();
            List<StoredEvent> batch = new ArrayList<>(64);
            long seq = 0;
            while (written < target) {
                String ecid = ecid(random);
                visitors++;
                int[] experience = new int[ACTIVITIES.length];
                for (int a = 0; a < ACTIVITIES.length; a++) {
                    experience[a] = Assignment.pick(Assignment.bucket(ACTIVITIES[a][0], ecid), WEIGHTS[a]);
                }
                boolean[] shown = new boolean[ACTIVITIES.length];
                int pages = 3 + random.nextInt(9);
                List<byte[]> events = new ArrayList<>();
                for (int p = 0; p < pages; p++) {
                    events.add(withEcid(views[random.nextInt(views.length)], ecid));
                    if (random.nextInt(10) < 6) {
                        int first = random.nextInt(10) < 7 ? 0 : 2;
                        List<Integer> shownNow = random.nextInt(10) < 2 ? List.of(first, 1) : List.of(first);
                        boolean click = random.nextInt(10) == 0;
                        events.add(notification(ecid, shownNow, experience, "decisioning.propositionDisplay"));
                        for (int a : shownNow) {
                            Counts c = counts(expected, a, experience[a]);
                            c.displays++;
                            if (!shown[a]) {
                                shown[a] = true;
                                c.visitors++;
                            }
                            if (click) {
                                c.clicks++;
                            }
                        }
                        if (click) {
                            events.add(notification(ecid, shownNow, experience, "decisioning.propositionInteract"));
                        }
                    }
                }
                if (random.nextInt(100) < 6) {
                    events.add(purchase(ecid));
                    for (int a = 0; a < ACTIVITIES.length; a++) {
                        if (shown[a]) {
                            counts(expected, a, experience[a]).conversions++;
                        }
                    }
                }
                for (byte[] json : events) {
                    long k = seq++;
                    batch.add(new StoredEvent("req-" + k / 50, "ds", "web-events", System.currentTimeMillis(),
                            new UUID(0x0190000000007000L | k << 16, 0x8000000000000000L | k).toString(), "ECID", ecid,
                            json, true));
                    if (batch.size() == 50) {
                        pending.add(store.write(batch).toCompletableFuture());
                        batch = new ArrayList<>(64);
                        if (pending.size() >= 64) {
                            pending.poll().get(60, TimeUnit.SECONDS);
                        }
                    }
                }
                written += events.size();
            }
            if (!batch.isEmpty()) {
                pending.add(store.write(batch).toCompletableFuture());
            }
            while (!pending.isEmpty()) {
                pending.poll().get(60, TimeUnit.SECONDS);
            }
        }
        System.err.printf("wrote %d events of %d visitors in %.1f s%n", written, visitors, (System.nanoTime() - t0) / 1e9);
        StringBuilder out = new StringBuilder("{\"events\":" + written + ",\"experiences\":[");
        String sep = "";
        for (var e : expected.entrySet()) {
            Counts c = e.getValue();
            out.append(sep).append(String.format("{\"id\":\"%s\",\"visitors\":%d,\"displays\":%d,\"clicks\":%d,"
                    + "\"conversions\":%d}", e.getKey(), c.visitors, c.displays, c.clicks, c.conversions));
            sep = ",";
        }
        System.out.println(out.append("]}"));
    }

    private static Counts counts(Map<String, Counts> expected, int activity, int experience) {
        return expected.computeIfAbsent(ACTIVITIES[activity][0] + "/" + ACTIVITIES[activity][2 + experience],
                k -> new Counts());
    }

    private static String ecid(Random random) {
        StringBuilder s = new StringBuilder(38);
        for (int i = 0; i < 38; i++) {
            s.append((char) ('0' + random.nextInt(10)));
        }
        return s.toString();
    }

    /** A page view with the visitor's ECID in its identity map, as the edge stores it. */
    private static byte[] withEcid(byte[] view, String ecid) {
        String json = new String(view, StandardCharsets.UTF_8);
        return ("{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\",\"primary\":true}]},"
                + json.substring("{\"xdm\":{".length())).getBytes(StandardCharsets.UTF_8);
    }

    /** A display or click notification as alloy sends it, with the propositions shown. */
    private static byte[] notification(String ecid, List<Integer> activities, int[] experience, String eventType) {
        StringBuilder p = new StringBuilder();
        for (int a : activities) {
            String id = ACTIVITIES[a][0];
            String x = ACTIVITIES[a][2 + experience[a]];
            if (p.length() > 0) {
                p.append(',');
            }
            p.append("{\"id\":\"").append(UUID.nameUUIDFromBytes((id + "\n" + x).getBytes(StandardCharsets.UTF_8)))
                    .append("\",\"scope\":\"").append(ACTIVITIES[a][1]).append("\",\"scopeDetails\":{\"decisionProvider\":\"TGT\","
                    + "\"activity\":{\"id\":\"").append(id).append("\"},\"experience\":{\"id\":\"").append(x)
                    .append("\"},\"strategies\":[{\"step\":\"entry\",\"algorithmID\":\"0\",\"trafficType\":\"0\"},"
                    + "{\"step\":\"display\",\"algorithmID\":\"0\",\"trafficType\":\"0\"}],\"characteristics\":{\"eventToken\":\"")
                    .append(java.util.Base64.getEncoder().encodeToString(("xdm-edge:" + id + ":" + x).getBytes(StandardCharsets.UTF_8)))
                    .append("\"},\"correlationID\":\"").append(id).append(':').append(x).append(":0\"}}");
        }
        boolean display = eventType.endsWith("Display");
        return ("{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\",\"primary\":true}]},"
                + "\"eventType\":\"" + eventType + "\",\"timestamp\":\"2026-12-08T01:00:00.000Z\","
                + "\"_experience\":{\"decisioning\":{\"propositions\":[" + p + "],\"propositionEventType\":{\""
                + (display ? "display" : "interact") + "\":1}}},"
                + "\"implementationDetails\":{\"name\":\"https://ns.adobe.com/experience/alloy\",\"version\":\"2.33.1\","
                + "\"environment\":\"browser\"},\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example.test/\"}}}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] purchase(String ecid) {
        return ("{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\",\"primary\":true}]},"
                + "\"eventType\":\"commerce.purchases\",\"timestamp\":\"2026-12-08T01:05:00.000Z\","
                + "\"commerce\":{\"purchases\":{\"value\":1},\"order\":{\"priceTotal\":139.0,\"currencyCode\":\"EUR\"}},"
                + "\"productListItems\":[{\"SKU\":\"RJ-4470-YL-M\",\"quantity\":1,\"priceTotal\":139.0}]}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private ExperimentStore() {}
}
