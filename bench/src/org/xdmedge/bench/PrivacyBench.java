package org.xdmedge.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.privacy.JobRequest;
import org.xdmedge.privacy.PrivacyJob;
import org.xdmedge.privacy.PrivacyJobs;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.store.log.FramePacking;

/**
 * What privacy jobs cost on a grown store, without HTTP. {@code PrivacyBench DATA_DIR EVENTS SECONDS}:
 * fills a fresh store with {@code EVENTS} events of a million visitors (each event ~400 bytes, one
 * ECID, every fourth a hashed email too), among them a few people whose 100 events are spread over
 * the whole log. Then, the store closed: how long an access job by ECID and by hashed email and a
 * delete job by hashed email take, and how long reclaiming its bytes (rewriting every segment)
 * takes. Then, the store open: the writer's events/s (1 event per request, 64 in flight, as
 * collect-1 hands it events) for {@code SECONDS} idle and while a delete's rewrite runs, three times,
 * and a fourth with the rewrite unpaced (neither its writes nor its share of the CPU).
 */
public final class PrivacyBench {
    private static final String ORG = "53A16ACB5CC1D3760A495C99@AdobeOrg";
    private static final int VISITORS = 1_000_000;
    private static final int SPREAD = 100;
    /** People -1 to -5 have events spread over the log: -1 for the timed jobs, -2 to -5 for the rewrites. */
    private static final int SPREAD_PEOPLE = 5;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long events = Long.parseLong(args[1]);
        double seconds = Double.parseDouble(args[2]);
        long t0 = System.nanoTime();
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS)) {
            fill(store, events);
            System.out.printf("fill: %d events in %.1f s%n", store.storedEvents(), (System.nanoTime() - t0) / 1e9);
        }
        try (PrivacyJobs jobs = new PrivacyJobs(dir, Map.of("ds", ORG), (org, ecid) -> { }, null, FramePacking.LZ4,
                Duration.ZERO).start()) {
            time(jobs, "access", "ECID", ecid(-1), false);
            time(jobs, "access", "Email_LC_SHA256", email(-1), false);
            time(jobs, "delete", "Email_LC_SHA256", email(-1), true);
        }
        System.out.printf("%-28s %12s %12s %8s%n", "writer, 1 event/request", "idle ev/s", "rewrite ev/s", "ratio");
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS);
             PrivacyJobs jobs = new PrivacyJobs(dir, Map.of("ds", ORG), (org, ecid) -> { }, store::requestRoll,
                     FramePacking.LZ4, Duration.ZERO).onDeleted(store::eventsDeleted).start()) {
            byte[][] json = new byte[1024][];
            java.util.Random random = new java.util.Random(20261208L);
            for (int i = 0; i < json.length; i++) {
                json[i] = Bodies.event(true, random).getBytes(StandardCharsets.UTF_8);
            }
            drive(store, json, seconds / 2, () -> false); // warm-up
            for (int run = 1; run <= 4; run++) {
                if (run == 4) { // the same without pacing the rewrite (its writes nor its CPU), for comparison
                    System.setProperty("xdmedge.rewriteBytesPerSecond", "0");
                    System.setProperty("xdmedge.rewriteCpuShare", "1");
                }
                double idle = drive(store, json, seconds, () -> false);
                String jobId = jobs.submit(request("delete", "ECID", ecid(-1 - run))).get(0).jobId();
                while (!PrivacyJob.COMPLETE.equals(jobs.get(jobId).orElseThrow().status())) {
                    Thread.sleep(5);
                }
                long r0 = System.nanoTime();
                double during = drive(store, json, seconds, () -> jobs.get(jobId).orElseThrow().reclaimed());
                boolean doneInWindow = jobs.get(jobId).orElseThrow().reclaimed();
                while (!jobs.get(jobId).orElseThrow().reclaimed()) { // the next idle window is idle
                    Thread.sleep(50);
                }
                System.out.printf("%-28s %12.0f %12.0f %8.2f   (rewrite %s the window; it took %.1f s)%n",
                        run == 4 ? "run 4, rewrite unpaced" : "run " + run, idle, during, during / idle,
                        doneInWindow ? "ended within" : "ran through", (System.nanoTime() - r0) / 1e9);
            }
        }
    }

    private static void time(PrivacyJobs jobs, String action, String namespace, String id, boolean reclaim)
            throws Exception {
        long t0 = System.nanoTime();
        String jobId = jobs.submit(request(action, namespace, id)).get(0).jobId();
        PrivacyJob job = jobs.get(jobId).orElseThrow();
        while (PrivacyJob.PROCESSING.equals(job.status())) {
            Thread.sleep(5);
            job = jobs.get(jobId).orElseThrow();
        }
        double done = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s by %s: %s, %d events, %.1f s%n", action, namespace, job.status(), job.events(), done);
        if (reclaim) {
            while (!jobs.get(jobId).orElseThrow().reclaimed()) {
                Thread.sleep(20);
            }
            System.out.printf("  reclaimed (every segment holding them rewritten) %.1f s after the job began%n",
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    private static JobRequest request(String action, String namespace, String id) throws JobRequest.Malformed {
        return JobRequest.parse(("{\"companyContexts\":[{\"namespace\":\"imsOrgID\",\"value\":\"" + ORG + "\"}],"
                + "\"users\":[{\"key\":\"bench\",\"action\":[\"" + action + "\"],\"userIDs\":[{\"namespace\":\""
                + namespace + "\",\"value\":\"" + id + "\",\"type\":\"standard\"}]}],\"regulation\":\"gdpr\"}")
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Visitor {@code v}'s ECID; negative {@code v} are the spread people. */
    private static String ecid(long v) {
        return String.format("%038d", 50_000_000_000L + v);
    }

    private static String email(long v) {
        return String.format("%064x", 0xE0000000L + v);
    }

    /** Event {@code k}: one of the spread people's every {@code events / SPREAD}, else a random visitor. */
    private static byte[] event(long k, long events) {
        long step = Math.max(1, events / SPREAD);
        long v;
        if (k % step < SPREAD_PEOPLE) {
            v = -1 - (k % step);
        } else {
            v = ThreadLocalRandom.current().nextInt(VISITORS);
        }
        boolean withEmail = v == -1 ? (k / step) % 2 == 1 : k % 4 == 0;
        return ("{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\",\"timestamp\":\"2026-12-08T01:00:00Z\","
                + "\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid(v) + "\",\"primary\":true}]"
                + (withEmail ? ",\"Email_LC_SHA256\":[{\"id\":\"" + email(v) + "\"}]" : "")
                + "},\"web\":{\"webPageDetails\":{\"name\":\"page " + (k % 977) + "\",\"URL\":\"https://shop.example/p/"
                + (k % 9973) + "\"},\"webReferrer\":{\"URL\":\"https://search.example/?q=" + (k % 31) + "\"}},"
                + "\"device\":{\"screenHeight\":1080,\"screenWidth\":1920},\"environment\":{\"type\":\"browser\"}}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static void fill(EventLogStore store, long events) throws Exception {
        ArrayDeque<CompletableFuture<WriteResult>> pending = new ArrayDeque<>();
        for (long k = 0; k < events; ) {
            List<StoredEvent> group = new ArrayList<>(50);
            for (int i = 0; i < 50 && k < events; i++, k++) {
                group.add(new StoredEvent("fill-" + k, "ds", "web-events", System.currentTimeMillis(), uuid(), null, null,
                        event(k, events)));
            }
            pending.add(store.write(group).toCompletableFuture());
            if (pending.size() >= 64) {
                pending.poll().get(60, TimeUnit.SECONDS);
            }
        }
        for (CompletableFuture<WriteResult> f : pending) {
            f.get(60, TimeUnit.SECONDS);
        }
    }

    /** Writes 1-event requests, 64 in flight, for {@code seconds} or until {@code done}: events/s. */
    private static double drive(EventLogStore store, byte[][] json, double seconds,
                                java.util.function.BooleanSupplier done) throws Exception {
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        long stored0 = store.storedEvents();
        ArrayDeque<CompletableFuture<WriteResult>> pending = new ArrayDeque<>();
        long k = 0;
        while (System.nanoTime() < end && !done.getAsBoolean()) {
            while (pending.size() < 64) {
                pending.add(store.write(List.of(new StoredEvent("req-" + k, "ds", "web-events", System.currentTimeMillis(),
                        uuid(), "FPID", "79bf8e83-f708-414b-b1ed-5789ff33bf0b", json[(int) (k++ % json.length)])))
                        .toCompletableFuture());
            }
            pending.poll().get(30, TimeUnit.SECONDS);
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        long stored = store.storedEvents() - stored0;
        for (CompletableFuture<WriteResult> f : pending) {
            f.get(30, TimeUnit.SECONDS);
        }
        return stored / elapsed;
    }

    private static String uuid() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new UUID(r.nextLong() & ~0xF000L | 0x4000L, r.nextLong() & ~(3L << 62) | 1L << 63).toString();
    }

    private PrivacyBench() {}
}
