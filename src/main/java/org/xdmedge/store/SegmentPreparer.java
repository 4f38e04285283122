package org.xdmedge.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the event log's next segment ahead of the writer, on its own thread: a file of zeros
 * already on disk, so that forcing a frame written into it has no blocks to allocate and no file
 * size to write. Measured here (2 KB and 30 KB frames, each forced): 1.4-2x the commits per second
 * of appending to a growing file, and a p99.9 of ~0.4-2 ms against 1.5-10 ms.
 *
 * <p>The file is filled as {@code NNN.log.tmp}, forced, and renamed into place (the directory
 * forced too) only if the writer has not gone past that number meanwhile; the writer makes a
 * segment of its own (growing as it appends) when the prepared one is not ready in time.
 */
final class SegmentPreparer implements AutoCloseable {
    static final String TEMPORARY_SUFFIX = ".tmp";
    private static final int FILL_BYTES = 1 << 20;
    /** Forced every few MB, so the preparer's writeback never meets a commit as one large burst. */
    private static final long FORCE_EVERY_BYTES = 4L << 20;
    private static final Logger log = LoggerFactory.getLogger(SegmentPreparer.class);

    private final Path directory;
    private final long segmentBytes;
    private final Thread thread;
    // Guarded by this:
    private long wanted;
    private long ready;
    private long taken;
    private boolean running = true;

    SegmentPreparer(Path directory, long segmentBytes, long current) {
        this.directory = directory;
        this.segmentBytes = segmentBytes;
        this.taken = current;
        this.thread = new Thread(this::run, "event-segment-preparer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Asks for segment {@code number} to be prepared (the writer's, when its segment fills up). */
    synchronized void want(long number) {
        if (number > taken && number != ready && number != wanted) {
            wanted = number;
            notifyAll();
        }
    }

    /**
     * The writer moves on to segment {@code number}: true if it is prepared and in place. Either
     * way no preparation of that number or below lands afterwards.
     */
    synchronized boolean take(long number) {
        taken = Math.max(taken, number);
        if (wanted <= number) {
            wanted = 0;
        }
        return ready == number;
    }

    private void run() {
        while (true) {
            long number;
            synchronized (this) {
                while (running && wanted == 0) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (!running) {
                    return;
                }
                number = wanted;
            }
            Path temporary = directory.resolve(EventLog.name(number) + TEMPORARY_SUFFIX);
            try {
                fill(temporary);
                synchronized (this) {
                    if (number > taken && running) {
                        Files.move(temporary, directory.resolve(EventLog.name(number)), StandardCopyOption.ATOMIC_MOVE);
                        EventLog.forceDirectory(directory);
                        ready = number;
                    } else {
                        Files.deleteIfExists(temporary);
                    }
                    if (wanted == number) {
                        wanted = 0;
                    }
                }
            } catch (IOException e) {
                log.warn("could not prepare event segment {} (the writer makes its own): {}", number, e.getMessage());
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // the next open removes it
                }
                synchronized (this) {
                    if (wanted == number) {
                        wanted = 0;
                    }
                }
            }
        }
    }

    private void fill(Path temporary) throws IOException {
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(FILL_BYTES);
            long unforced = 0;
            for (long at = 0; at < segmentBytes && isRunning(); ) {
                zeros.clear().limit((int) Math.min(FILL_BYTES, segmentBytes - at));
                int n = channel.write(zeros, at);
                at += n;
                unforced += n;
                if (unforced >= FORCE_EVERY_BYTES) {
                    channel.force(false);
                    unforced = 0;
                }
            }
            EventLog.writeHeader(channel);
            channel.force(true);
        }
    }

    private synchronized boolean isRunning() {
        return running;
    }

    /** Removes what an earlier process left half prepared. */
    static void removeLeftovers(Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(EventLog.SUFFIX + TEMPORARY_SUFFIX)).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            running = false;
            notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
