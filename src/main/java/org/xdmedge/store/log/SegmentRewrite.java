package org.xdmedge.store.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.store.NumberedFiles;
import org.xdmedge.store.ids.WritePace;

/**
 * Takes deleted events' bytes out of the event log: a segment holding any is written again, every
 * deleted event replaced by a blanked record (its sequence number, receive time, dataset and
 * datastream; no event id, request id, identity or JSON). Keeping every sequence number keeps what
 * readers and opening rely on: numbers rise through frames and segments, each segment's first
 * number stays where it was, and the log's last number is never lost when its newest events are
 * the deleted ones.
 *
 * <p>Crash safety: the new segment is written to {@code NNN.log.rewrite} beside it, forced, given
 * the old file's modification time (retention by age reads it), then renamed over the segment and
 * the directory forced. A crash before the rename leaves the old segment, whole, and a
 * {@code .rewrite} file that {@link #removeLeftovers} deletes at the next start (the rewrite is
 * then done again); after it, the new one. Never used on the segment the writer appends to.
 *
 * <p>{@link #FILES} is held while a segment file is replaced and while retention deletes one, so
 * a rewrite never puts back a segment retention has just deleted.
 */
public final class SegmentRewrite {
    /** Held to rename a rewritten segment into place, and by retention to delete a segment. */
    public static final Object FILES = new Object();
    /**
     * Raised after each rewrite replaces a segment: its frames then start at other offsets, so a
     * reader that kept a byte position in it must find its place again by sequence number.
     */
    static final AtomicLong REWRITES = new AtomicLong();
    static final String SUFFIX = ".rewrite";
    /** Plain bytes per rewritten frame, at most (a frame takes at least one event). */
    private static final int FRAME_PLAIN_BYTES = 1 << 20;
    /** A rewrite forces its file every this many bytes, so no force the writer waits behind is large. */
    static final long FORCE_STEP_BYTES = 512 << 10;

    /**
     * The rate of a rewrite's writes, as the id index paces its own: the event writer's
     * {@code fdatasync}, which every waiting request's answer waits for, finishes only after what
     * else is in flight to the disk. Read at each rewrite; the system property
     * {@code xdmedge.rewriteBytesPerSecond} is for experiments (0: unpaced, one force at the end).
     */
    static long bytesPerSecond() {
        return Long.getLong("xdmedge.rewriteBytesPerSecond", 64L << 20);
    }

    /**
     * The share of one CPU a rewrite takes at most: after each frame it rests four times as long as
     * the frame took. Unpacking and packing every event of a segment is CPU work, and on a node of
     * one or two CPUs it would take that time from the event loops and the writer, which answer
     * requests; a rewrite may take its time ({@code privacy.reclaimMinutes}). The system property
     * {@code xdmedge.rewriteCpuShare} is for experiments (1: no rest).
     */
    static double cpuShare() {
        double share = Double.parseDouble(System.getProperty("xdmedge.rewriteCpuShare", "0.2"));
        return share > 0 && share <= 1 ? share : 1;
    }

    private SegmentRewrite() {}

    /** True for the record a rewrite leaves in place of a deleted event. */
    public static boolean blanked(StoredEvent e) {
        return e.eventId() == null;
    }

    /** What one pass rewrote, and the bytes the rewritten segments shrank by. */
    public record Result(int segments, int blankedEvents, boolean activeHoldsDeleted, long reclaimedBytes) {}

    /** Deletes {@code .rewrite} files a crash left: their segments are whole beside them. */
    public static void removeLeftovers(Path dataDir) throws IOException {
        Path dir = dataDir.resolve(EventLog.DIRECTORY);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    /**
     * Rewrites every segment that still holds an event of {@code deleted}; the newest segment only
     * when {@code includeNewest} (no writer is running). {@code activeHoldsDeleted} tells the
     * caller that the newest segment, left alone, holds some.
     */
    public static Result apply(Path dataDir, DeletedEvents deleted, FramePacking packing, boolean includeNewest)
            throws IOException {
        removeLeftovers(dataDir);
        if (deleted.isEmpty()) {
            return new Result(0, 0, false, 0);
        }
        List<Path> segments = EventLog.segments(dataDir.resolve(EventLog.DIRECTORY));
        int rewritten = 0;
        int blanked = 0;
        long reclaimed = 0;
        boolean active = false;
        for (int i = 0; i < segments.size(); i++) {
            Path segment = segments.get(i);
            boolean newest = i == segments.size() - 1;
            int[] toBlank = {0};
            try {
                // A first pass only counts: most segments hold no deleted event and are left alone.
                EventLogRecovery.readSegment(segment, (seq, e) -> {
                    if (!blanked(e) && deleted.contains(seq)) {
                        toBlank[0]++;
                    }
                });
            } catch (NoSuchFileException e) {
                continue; // retention deleted it meanwhile
            }
            if (toBlank[0] == 0) {
                continue;
            }
            if (newest && !includeNewest) {
                active = true;
                continue;
            }
            long before = Files.size(segment);
            if (rewrite(segment, deleted, packing)) {
                rewritten++;
                blanked += toBlank[0];
                reclaimed += Math.max(0, before - Files.size(segment));
            }
        }
        return new Result(rewritten, blanked, active, reclaimed);
    }

    /**
     * Streams the segment into its replacement, a frame at a time (a segment of packed frames may
     * hold several times its size in events: none is kept longer than it takes to copy it).
     */
    private static boolean rewrite(Path segment, DeletedEvents deleted, FramePacking packing) throws IOException {
        Path tmp = segment.resolveSibling(segment.getFileName() + SUFFIX);
        FileTime modified = Files.getLastModifiedTime(segment);
        try (EventFrameCodec codec = new EventFrameCodec(packing);
             FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                     StandardOpenOption.WRITE)) {
            EventLog.writeHeader(out);
            long[] position = {EventLog.SEGMENT_HEADER_BYTES};
            int[] inFrame = {0};
            long rate = bytesPerSecond();
            WritePace pace = new WritePace(rate, () -> false);
            double restPerWork = 1 / cpuShare() - 1;
            // Where the unforced stretch began and when; when the work on the current frame began.
            long[] step = {position[0], System.nanoTime(), System.nanoTime()};
            codec.begin();
            try {
                EventLogRecovery.readSegment(segment, (seq, e) -> {
                    codec.add(seq, deleted.contains(seq) ? blank(e) : e);
                    inFrame[0]++;
                    if (codec.plainPayloadBytes() >= FRAME_PLAIN_BYTES) {
                        position[0] = writeFrame(codec, out, position[0]);
                        inFrame[0] = 0;
                        codec.begin();
                        if (restPerWork > 0) {
                            LockSupport.parkNanos((long) ((System.nanoTime() - step[2]) * restPerWork));
                        }
                        if (rate > 0 && position[0] - step[0] >= FORCE_STEP_BYTES) {
                            out.force(false);
                            pace.stepDone(position[0] - step[0], step[1]);
                            step[0] = position[0];
                            step[1] = System.nanoTime();
                        }
                        step[2] = System.nanoTime();
                    }
                });
            } catch (NoSuchFileException e) {
                Files.deleteIfExists(tmp);
                return false;
            }
            if (inFrame[0] > 0) {
                position[0] = writeFrame(codec, out, position[0]);
            }
            // Zeros to the last frame's boundary, as the writer leaves them: opening reads the last block whole.
            long size = out.size();
            if (position[0] > size) {
                out.write(ByteBuffer.allocate((int) (position[0] - size)), size);
            }
            out.force(true);
        }
        Files.setLastModifiedTime(tmp, modified);
        synchronized (FILES) {
            if (!Files.exists(segment)) {
                Files.deleteIfExists(tmp); // retention deleted it meanwhile: nothing to replace
                return false;
            }
            Files.move(tmp, segment, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            NumberedFiles.forceDirectory(segment.getParent());
            REWRITES.incrementAndGet();
        }
        return true;
    }

    /** Writes the codec's frame at {@code at}; returns where the next frame begins. */
    private static long writeFrame(EventFrameCodec codec, FileChannel out, long at) throws IOException {
        ByteBuffer frame = codec.encode();
        while (frame.hasRemaining()) {
            at += out.write(frame, at);
        }
        return EventLog.aligned(at); // the gap reads as zeros
    }

    private static StoredEvent blank(StoredEvent e) {
        if (blanked(e)) {
            return e;
        }
        return new StoredEvent(null, e.datastreamId(), e.dataset(), e.receivedAtMillis(), null, null, null, new byte[0]);
    }
}
