package org.xdmedge.store.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The free space of the data directory's disk, as the event writer sees it. Below a floor the
 * store refuses writes (503 with {@code Retry-After}) and is not ready, until twice as much is free
 * again: a clean refusal before the disk is full, when a new segment could no longer be begun and
 * writes would fail one by one while the ones that still fit flip readiness back and forth.
 *
 * <p>Threads: {@link #check} runs on the writer, at most once a second (a statfs); the floor and
 * the probe are set from any thread; {@link #low} and {@link #freeBytes} are read from any thread.
 */
final class DiskSpace {
    private static final Logger log = LoggerFactory.getLogger(DiskSpace.class);
    /** The default floor: one segment. */
    static final long MIN_FREE_BYTES = EventLog.DEFAULT_SEGMENT_BYTES;
    private static final long CHECK_NANOS = 1_000_000_000L;

    private volatile long minFreeBytes = MIN_FREE_BYTES;
    private volatile LongSupplier probe;
    private volatile long freeBytes = Long.MAX_VALUE;
    private volatile boolean low;
    private volatile long checkedAt = System.nanoTime() - CHECK_NANOS;

    DiskSpace(Path dataDir) {
        this.probe = () -> usableBytes(dataDir);
    }

    boolean low() {
        return low;
    }

    long freeBytes() {
        return freeBytes;
    }

    long minFreeBytes() {
        return minFreeBytes;
    }

    void minFreeBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("minFreeBytes must be at least 0");
        }
        minFreeBytes = bytes;
        checkDue();
    }

    /** Replaces how free space is read (tests: a disk that fills without filling one). */
    void probe(LongSupplier freeBytesProbe) {
        probe = freeBytesProbe;
        checkDue();
    }

    /** Has the next {@link #check} read the disk, whenever the last one was (a write failed, say). */
    void checkDue() {
        checkedAt = System.nanoTime() - CHECK_NANOS;
    }

    /** On the writer, at most once a second: low below the floor, clear again at twice that. */
    void check() {
        long now = System.nanoTime();
        if (now - checkedAt < CHECK_NANOS) {
            return;
        }
        checkedAt = now;
        long free;
        try {
            free = probe.getAsLong();
        } catch (RuntimeException e) {
            return; // unknown: keep the last answer
        }
        freeBytes = free;
        long floor = minFreeBytes;
        long resume = floor > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : 2 * floor;
        boolean nowLow = free < (low ? resume : floor);
        if (nowLow != low) {
            low = nowLow;
            if (nowLow) {
                log.warn("the data directory's disk has {} MiB free, less than {} MiB (storage.minFreeBytes): writes are refused (503)"
                        + " and /ready is 503 until {} MiB are free", free >> 20, floor >> 20, resume >> 20);
            } else {
                log.info("the data directory's disk has {} MiB free again: writes are taken", free >> 20);
            }
        }
    }

    private static long usableBytes(Path dataDir) {
        try {
            return Files.getFileStore(dataDir).getUsableSpace();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
