package org.xdmedge.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

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
 * <p>The ids of deleted events leave the id index as its sealed tables are merged ({@link
 * EventIdIndex#retainFrom}): a retry of such an event is then stored again. The dedup window of
 * the embedded store is its retention.
 */
final class SegmentRetention {
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

    private SegmentRetention() {}

    /**
     * Deletes what {@code limits} no longer keep under {@code dataDir}, given the sequence number
     * the id index's last checkpoint covers and the time now.
     */
    static Pass apply(Path dataDir, Limits limits, long coveredSeq, long nowMillis) throws IOException {
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
                long nextFirst = EventLog.firstSeqOf(segments.get(i + 1));
                if (nextFirst == Long.MAX_VALUE) {
                    stoppedShort = segments.get(i + 1).getFileName() + " has no readable first event";
                    break;
                }
                if (nextFirst - 1 > coveredSeq) {
                    break; // its events are not all covered by the index's checkpoint yet: next time
                }
                Files.deleteIfExists(segments.get(i));
                total -= sizes[i];
                bytes += sizes[i];
                deleted++;
                retainedFrom = nextFirst;
            }
        } catch (IOException | RuntimeException e) {
            stoppedShort = e.toString(); // what was deleted so far still counts
        }
        if (deleted > 0) {
            EventLog.forceDirectory(dataDir.resolve(EventLog.DIRECTORY));
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
