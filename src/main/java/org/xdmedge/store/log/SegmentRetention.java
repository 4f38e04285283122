package org.xdmedge.store.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.store.NumberedFiles;
import org.xdmedge.store.ids.EventIdIndex;

/**
 * Retention of the embedded store: deletes whole event segments, oldest first, while the segments
 * take more than {@code maxBytes} or the oldest was last written more than {@code maxAge} ago (its
 * newest event is that old). Off unless a limit is set: by default every event is kept.
 *
 * <p>What is never deleted: the two newest segments (the current one may be empty just after a
 * roll, and opening takes the log's last sequence number from the one before: deleting it would
 * start numbers again at 1), and any segment holding an event the id index's last checkpoint does
 * not cover (after a crash those events are read again to claim their ids).
 *
 * <p>A {@link RetentionHold} (forwarding) keeps the segments a reader has not passed, up to its
 * own limit of bytes, past which it is told what goes before it goes.
 *
 * <p>The ids of deleted events leave the id index as its sealed tables are merged ({@link
 * EventIdIndex#retainFrom}): a retry of such an event is then stored again. The dedup window of
 * the embedded store is its retention.
 *
 * <p>An instance runs {@link #apply} on its own thread every {@link #DEFAULT_INTERVAL_MILLIS}
 * ms (a minute) for an {@link EventLogStore}, from {@link #start} to {@link #stop}.
 */
final class SegmentRetention {
    /** How often retention looks, by default. */
    static final long DEFAULT_INTERVAL_MILLIS = 60_000;
    private static final Logger log = LoggerFactory.getLogger(SegmentRetention.class);

    /** The limits; {@code maxBytes} 0 and {@code maxAge} null: none. */
    record Limits(long maxBytes, Duration maxAge) {
        static final Limits NONE = new Limits(0, null);

        boolean enabled() {
            return maxBytes > 0 || maxAge != null;
        }
    }

    /**
     * What one pass deleted, the first sequence number the log keeps (0: unchanged, nothing
     * deleted), and why it stopped short of the limits, if it did (null otherwise).
     */
    record Pass(int segments, long bytes, long retainedFromSeq, String stoppedShort) {}

    private final Path dataDir;
    private final Limits limits;
    private final long intervalMillis;
    private final EventIdIndex ids;
    private final RetentionHold hold;
    private final Thread thread;
    private final Object signal = new Object();
    private volatile boolean stopping;
    private final AtomicLong segmentsDeleted = new AtomicLong();
    private final AtomicLong bytesDeleted = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    SegmentRetention(Path dataDir, Limits limits, long intervalMillis, EventIdIndex ids) {
        this(dataDir, limits, intervalMillis, ids, null);
    }

    SegmentRetention(Path dataDir, Limits limits, long intervalMillis, EventIdIndex ids, RetentionHold hold) {
        this.hold = hold;
        this.dataDir = dataDir;
        this.limits = limits;
        this.intervalMillis = intervalMillis;
        this.ids = ids;
        this.thread = new Thread(this::run, "event-retention");
        this.thread.setDaemon(true);
    }

    /**
     * Tells {@code ids} the first sequence number the log under {@code dataDir} keeps, so the ids
     * of events retention deleted before this start leave the index with its merges too.
     */
    static void tellIndex(Path dataDir, EventIdIndex ids) throws IOException {
        List<Path> segments = EventLog.segments(dataDir.resolve(EventLog.DIRECTORY));
        long oldest = segments.isEmpty() ? Long.MAX_VALUE : EventLogRecovery.firstSeqOf(segments.get(0));
        if (oldest != Long.MAX_VALUE) {
            ids.retainFrom(oldest);
        }
    }

    void start() {
        thread.start();
    }

    /** Stops the thread, waiting until {@code deadlineNanos} at most for a pass under way. */
    void stop(long deadlineNanos) {
        stopping = true;
        synchronized (signal) {
            signal.notifyAll();
        }
        try {
            thread.join(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long segmentsDeleted() {
        return segmentsDeleted.get();
    }

    long bytesDeleted() {
        return bytesDeleted.get();
    }

    long failures() {
        return failures.get();
    }

    private void run() {
        while (!stopping) {
            try {
                Pass pass = apply(dataDir, limits, ids.covered(), System.currentTimeMillis(), hold);
                if (pass.segments() > 0) {
                    ids.retainFrom(pass.retainedFromSeq());
                    segmentsDeleted.addAndGet(pass.segments());
                    bytesDeleted.addAndGet(pass.bytes());
                    log.info("retention: deleted {} event segments ({} MB); the log keeps the events from {} on",
                            pass.segments(), pass.bytes() >> 20, pass.retainedFromSeq());
                }
                if (pass.stoppedShort() != null) {
                    failures.incrementAndGet();
                    log.warn("retention of the event log stopped short of its limits, tried again in {} s: {}",
                            intervalMillis / 1000, pass.stoppedShort());
                }
            } catch (IOException | RuntimeException e) {
                failures.incrementAndGet();
                log.warn("retention of the event log failed, tried again in {} s: {}", intervalMillis / 1000, e.toString());
            }
            synchronized (signal) {
                if (!stopping) {
                    try {
                        signal.wait(intervalMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    /**
     * Deletes what {@code limits} no longer keep under {@code dataDir}, given the sequence number
     * the id index's last checkpoint covers and the time now.
     */
    static Pass apply(Path dataDir, Limits limits, long coveredSeq, long nowMillis) throws IOException {
        return apply(dataDir, limits, coveredSeq, nowMillis, null);
    }

    /**
     * As {@link #apply(Path, Limits, long, long)}, keeping the segments {@code hold} still needs
     * (null: none) until the log takes more than its {@link RetentionHold#maxHeldBytes()}.
     */
    static Pass apply(Path dataDir, Limits limits, long coveredSeq, long nowMillis, RetentionHold hold)
            throws IOException {
        if (!limits.enabled()) {
            return new Pass(0, 0, 0, null);
        }
        List<Path> segments = EventLog.segments(dataDir.resolve(EventLog.DIRECTORY));
        long total = 0;
        long[] sizes = new long[segments.size()];
        for (int i = 0; i < segments.size(); i++) {
            sizes[i] = sizeOf(segments.get(i));
            total += sizes[i];
        }
        int deleted = 0;
        long bytes = 0;
        long retainedFrom = 0;
        String stoppedShort = null;
        try {
            for (int i = 0; i < segments.size(); i++) {
                boolean tooLarge = limits.maxBytes() > 0 && total > limits.maxBytes();
                boolean tooOld = limits.maxAge() != null
                        && lastWritten(segments.get(i)) < nowMillis - limits.maxAge().toMillis();
                if (!tooLarge && !tooOld) {
                    break;
                }
                if (i + 2 >= segments.size()) {
                    break; // the two newest always stay (at a low rate, older than maxAge: up to two segments)
                }
                long nextFirst = EventLogRecovery.firstSeqOf(segments.get(i + 1));
                if (nextFirst == Long.MAX_VALUE) {
                    stoppedShort = segments.get(i + 1).getFileName() + " has no readable first event";
                    break;
                }
                if (nextFirst - 1 > coveredSeq) {
                    break; // its events are not all covered by the index's checkpoint yet: next time
                }
                if (hold != null && nextFirst - 1 >= hold.neededFrom()) {
                    if (hold.maxHeldBytes() <= 0 || total <= hold.maxHeldBytes()) {
                        break; // a reader has not passed it yet
                    }
                    long first = EventLogRecovery.firstSeqOf(segments.get(i));
                    if (first != Long.MAX_VALUE) {
                        hold.dropping(Math.max(first, hold.neededFrom()), nextFirst - 1);
                    }
                }
                synchronized (SegmentRewrite.FILES) { // never while a rewrite replaces it
                    Files.deleteIfExists(segments.get(i));
                }
                total -= sizes[i];
                bytes += sizes[i];
                deleted++;
                retainedFrom = nextFirst;
            }
        } catch (IOException | RuntimeException e) {
            stoppedShort = e.toString(); // what was deleted so far still counts
        }
        if (deleted > 0) {
            NumberedFiles.forceDirectory(dataDir.resolve(EventLog.DIRECTORY));
        }
        return new Pass(deleted, bytes, retainedFrom, stoppedShort);
    }

    private static long sizeOf(Path file) throws IOException {
        try {
            return Files.size(file);
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    private static long lastWritten(Path file) throws IOException {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (NoSuchFileException e) {
            return Long.MAX_VALUE;
        }
    }
}
