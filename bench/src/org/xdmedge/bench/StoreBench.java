package org.xdmedge.bench;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.store.log.EventLogStore;

/**
 * The embedded store alone, without HTTP: what the event writer commits per second with the
 * bench's ~1.5 KB event, a given number of events per request and of requests in flight (like
 * connections), with edge-made time-ordered ids or random UUIDv4 ids (what alloy sends). Each
 * configuration runs on a fresh data directory: a warm-up, then a measured window. Prints one line
 * per configuration: events/s, commits/s, write latency p50/p99, process CPU µs per event.
 * Usage: {@code StoreBench DATA_DIR WARMUP_SECONDS SECONDS}.
 *
 * <p>{@code StoreBench DATA_DIR grow SECONDS [EVENTS_PER_REQUEST [EVENT_BYTES]]}: one store, random UUIDv4 ids
 * (events of the bench's ~1.5 KB, or of {@code EVENT_BYTES}: small ones grow the id index to tens
 * of millions of ids without as many gigabytes of events),
 * driven for that long, printing every 5 s what it stored in the slice: how the store's speed
 * changes as it (and its id index) grows.
 */
public final class StoreBench {
    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        // Varied events, as the HTTP scenarios send them (see Bodies): identical ones would pack far smaller.
        java.util.Random random = new java.util.Random(20261204L);
        boolean identical = "1".equals(System.getenv("BENCH_IDENTICAL_BODIES"));
        byte[][] json = new byte[identical ? 1 : 1024][];
        for (int i = 0; i < json.length; i++) {
            json[i] = Bodies.event(true, identical ? null : random).getBytes(StandardCharsets.UTF_8);
        }
        if (args[1].equals("grow")) {
            if (args.length > 4) {
                json = new byte[][] {("{\"xdm\":{\"pad\":\"" + "x".repeat(Math.max(0, Integer.parseInt(args[4]) - 20)) + "\"}}")
                        .getBytes(StandardCharsets.UTF_8)};
            }
            grow(root, json, Double.parseDouble(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 50);
            return;
        }
        double warmup = Double.parseDouble(args[1]);
        double seconds = Double.parseDouble(args[2]);
        System.out.printf("%-34s %10s %9s %8s %8s %10s%n", "writer alone", "events/s", "commits/s", "p50 ms", "p99 ms",
                "cpu us/ev");
        int n = 0;
        for (int perRequest : new int[] {1, 50}) {
            for (boolean randomIds : new boolean[] {false, true}) {
                run(root.resolve("store-" + n++), json, perRequest, 64, randomIds, warmup, seconds);
            }
        }
    }

    private static void run(Path dir, byte[][] json, int perRequest, int inFlight, boolean randomIds, double warmup,
                            double seconds) throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS)) {
            long[] next = {0};
            drive(store, json, perRequest, inFlight, randomIds, warmup, next, null);
            long events0 = store.storedEvents();
            long commits0 = store.commits();
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            List<Long> latencies = new ArrayList<>();
            drive(store, json, perRequest, inFlight, randomIds, seconds, next, latencies);
            double elapsed = (System.nanoTime() - t0) / 1e9;
            long events = store.storedEvents() - events0;
            long cpu = processCpuNanos() - cpu0;
            long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("%-34s %10.0f %9.0f %8.2f %8.2f %10.2f%n",
                    perRequest + " event(s)/request, " + (randomIds ? "random ids" : "edge-made ids"),
                    events / elapsed, (store.commits() - commits0) / elapsed, percentile(sorted, 0.50),
                    percentile(sorted, 0.99), events == 0 ? 0 : cpu / 1e3 / events);
        }
    }

    private static void grow(Path dir, byte[][] json, double seconds, int perRequest) throws Exception {
        System.out.printf("%8s %12s %10s %10s %12s%n", "second", "stored", "events/s", "cpu us/ev", "minor faults");
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS)) {
            long[] next = {0};
            long t0 = System.nanoTime();
            for (int slice = 1; slice <= Math.ceil(seconds / 5); slice++) {
                long events0 = store.storedEvents();
                long cpu0 = processCpuNanos();
                long faults0 = minorFaults();
                long s0 = System.nanoTime();
                drive(store, json, perRequest, 64, true, 5, next, null);
                long events = store.storedEvents() - events0;
                System.out.printf("%8.0f %12d %10.0f %10.2f %12d%n", (System.nanoTime() - t0) / 1e9, store.storedEvents(),
                        events / ((System.nanoTime() - s0) / 1e9), events == 0 ? 0 : (processCpuNanos() - cpu0) / 1e3 / events,
                        minorFaults() - faults0);
            }
            java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            StringBuilder cpu = new StringBuilder("cpu s by thread:");
            for (long id : threads.getAllThreadIds()) {
                java.lang.management.ThreadInfo info = threads.getThreadInfo(id);
                long nanos = threads.getThreadCpuTime(id);
                if (info != null && nanos > 100_000_000L) {
                    cpu.append(String.format(" %s:%.1f", info.getThreadName(), nanos / 1e9));
                }
            }
            System.out.println(cpu);
        }
    }

    /** The process's minor page faults so far (Linux), 0 elsewhere. */
    private static long minorFaults() {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/self/stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
        } catch (Exception e) {
            return 0;
        }
    }

    /** Keeps {@code inFlight} requests outstanding for {@code seconds}, bounded in time. */
    private static void drive(EventLogStore store, byte[][] json, int perRequest, int inFlight, boolean randomIds,
                              double seconds, long[] next, List<Long> latencies) throws Exception {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        ArrayDeque<long[]> started = new ArrayDeque<>();
        ArrayDeque<CompletableFuture<WriteResult>> pending = new ArrayDeque<>();
        while (System.nanoTime() < end || !pending.isEmpty()) {
            while (pending.size() < inFlight && System.nanoTime() < end) {
                List<StoredEvent> events = new ArrayList<>(perRequest);
                for (int i = 0; i < perRequest; i++) {
                    long k = next[0]++;
                    // Edge-made ids rise with time (UUIDv7-like) and, minted for one request, take no
                    // claim in the id index; clients' are random and claimed.
                    String id = randomIds ? randomUuid()
                            : new UUID(0x0190000000007000L | k << 16, 0x8000000000000000L | k).toString();
                    events.add(new StoredEvent("req-" + k, "ds", "web-events", System.currentTimeMillis(), id, "FPID",
                            "79bf8e83-f708-414b-b1ed-5789ff33bf0b", json[(int) (k % json.length)], !randomIds));
                }
                started.add(new long[] {System.nanoTime()});
                pending.add(store.write(events).toCompletableFuture());
            }
            if (pending.isEmpty()) {
                break;
            }
            pending.poll().get(30, TimeUnit.SECONDS);
            long began = started.poll()[0];
            if (latencies != null) {
                latencies.add(System.nanoTime() - began);
            }
        }
    }

    /** A version-4 UUID from a fast generator: the ids only need to be unique, not unpredictable. */
    private static String randomUuid() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        return new UUID(random.nextLong() & ~0xF000L | 0x4000L, random.nextLong() & ~(3L << 62) | 1L << 63).toString();
    }

    private static double percentile(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (p * sorted.length))] / 1e6;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private StoreBench() {}
}
