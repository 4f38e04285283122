package org.xdmedge.store.log;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.xdmedge.outlet.StoredEvent;

/**
 * Reads stored events back in the order they were committed, for {@code export}. Only reads, so it
 * works beside a running server (it sees the frames complete when it reaches them). Deleted events
 * ({@link DeletedEvents}, and the blanked records a rewrite left in their place) are never handed on.
 */
public final class EventReader {
    private EventReader() {}

    /** One stored event and its sequence number. */
    public interface SeqVisitor {
        void accept(long seq, StoredEvent event) throws IOException;
    }

    /** True when {@code dataDir} holds an event log. */
    public static boolean exists(Path dataDir) {
        return EventLog.exists(dataDir);
    }

    /** Calls {@code each} for every stored event (of {@code dataset}, when not null); returns the count. */
    public static long forEach(Path dataDir, String dataset, Consumer<StoredEvent> each) throws IOException {
        long[] count = {0};
        forEachSeq(dataDir, (seq, e) -> {
            if (dataset == null || dataset.equals(e.dataset())) {
                each.accept(e);
                count[0]++;
            }
        });
        return count[0];
    }

    /** Told each stored event after a sequence number, with its number; false stops the reading. */
    public interface UntilVisitor {
        boolean accept(long seq, StoredEvent event) throws IOException;
    }

    /** Thrown through the scan to stop it where a visitor says. */
    private static final class Stop extends IOException {
        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // control flow, not a failure
        }
    }

    /**
     * Calls {@code each} for the stored events with sequence numbers above {@code afterSeq}, in
     * order, until it returns false; returns the last sequence number in the log when the reading
     * reached its end, else -1. Runs beside the writer and retention.
     */
    public static long forEachAfter(Path dataDir, long afterSeq, UntilVisitor each) throws IOException {
        if (!exists(dataDir)) {
            return 0;
        }
        try {
            DeletedEvents deleted = DeletedEvents.load(dataDir);
            return EventLogRecovery.scan(dataDir, afterSeq, (seq, e) -> {
                if (!SegmentRewrite.blanked(e) && !deleted.contains(seq) && !each.accept(seq, e)) {
                    throw new Stop();
                }
            });
        } catch (Stop stopped) {
            return -1;
        }
    }

    /**
     * A reader that follows the log: each {@link #next} reads on from where the previous one
     * stopped, without reading the frames before again (a segment retention deleted meanwhile is
     * found again by sequence number). One thread at a time.
     */
    public static final class Tail {
        private final Path dataDir;
        private final EventLogRecovery.Cursor cursor = new EventLogRecovery.Cursor();
        /** The rewrites seen, and the deleted events as of {@link #deletedAt} lists written (a poll loads none anew). */
        private long rewritesSeen = SegmentRewrite.REWRITES.get();
        private long deletedAt = -1;
        private DeletedEvents deleted = DeletedEvents.NONE;

        public Tail(Path dataDir) {
            this.dataDir = dataDir;
        }

        /** As {@link EventReader#forEachAfter}; {@code afterSeq} must not go back between calls. */
        public long next(long afterSeq, UntilVisitor each) throws IOException {
            if (!exists(dataDir)) {
                return 0;
            }
            long rewrites = SegmentRewrite.REWRITES.get();
            if (rewrites != rewritesSeen) {
                rewritesSeen = rewrites;
                reset(); // the segment under the cursor may now hold its frames at other offsets
            }
            DeletedEvents deleted = deleted();
            try {
                return EventLogRecovery.scan(dataDir, afterSeq, cursor, (seq, e) -> {
                    if (!SegmentRewrite.blanked(e) && !deleted.contains(seq) && !each.accept(seq, e)) {
                        throw new Stop();
                    }
                });
            } catch (Stop stopped) {
                return -1;
            }
        }

        /**
         * Whether a privacy job deleted the event of {@code seq}, read earlier (a reader that
         * holds events before it hands them on asks again then).
         */
        public boolean deleted(long seq) throws IOException {
            return deleted().contains(seq);
        }

        /** The deleted events, loaded again only when a list was written since. */
        private DeletedEvents deleted() throws IOException {
            long writes = DeletedEvents.WRITES.get();
            if (writes != deletedAt) {
                deleted = DeletedEvents.load(dataDir);
                deletedAt = writes;
            }
            return deleted;
        }

        /** Forgets where it was: the next reading finds {@code afterSeq} from the log's start. */
        public void reset() {
            cursor.segment = null;
        }
    }

    /** Calls {@code each} for every stored event that is not deleted, with its sequence number. */
    public static void forEachSeq(Path dataDir, SeqVisitor each) throws IOException {
        if (!exists(dataDir)) {
            throw new IOException("no event store at " + dataDir.toAbsolutePath());
        }
        DeletedEvents deleted = DeletedEvents.load(dataDir);
        EventLogRecovery.scan(dataDir, 0, (seq, e) -> {
            if (!SegmentRewrite.blanked(e) && !deleted.contains(seq)) {
                each.accept(seq, e);
            }
        });
    }
}
