package org.xdmedge.store.ids;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Keeps background writes (the id index's new tables' zeros, merges, checkpoints; segment
 * rewrites of privacy jobs) to a rate. The
 * disk serves one queue: the event writer's {@code fdatasync}, which every waiting request's answer
 * waits for, finishes only after what else is in flight, so background steps forced back to back
 * put a step's worth of delay on commit after commit. Paced, most commits find the disk idle. Given up as soon as {@code stop} says so: a stop is not held back.
 */
public final class WritePace {
    /** For writes someone waits for: a table the writer makes itself, forces while opening or closing. */
    static final WritePace UNPACED = new WritePace(0, () -> false);
    private static final long MAX_SLEEP_NANOS = 20_000_000;

    private final long bytesPerSecond;
    private final BooleanSupplier stop;

    /** {@code bytesPerSecond} 0 or less: no pacing. */
    public WritePace(long bytesPerSecond, BooleanSupplier stop) {
        this.bytesPerSecond = bytesPerSecond;
        this.stop = stop;
    }

    /** After a step of {@code bytes} begun at {@code startedNanos} was written and forced: waits out the rest of its share of time. */
    public void stepDone(long bytes, long startedNanos) {
        if (bytesPerSecond <= 0) {
            return;
        }
        long due = startedNanos + (long) (bytes * 1e9 / bytesPerSecond);
        for (long left = due - System.nanoTime(); left > 0 && !stop.getAsBoolean(); left = due - System.nanoTime()) {
            LockSupport.parkNanos(Math.min(left, MAX_SLEEP_NANOS));
        }
    }
}
