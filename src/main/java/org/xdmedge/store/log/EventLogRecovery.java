package org.xdmedge.store.log;

import static org.xdmedge.store.log.EventFrameCodec.FRAME_HEADER_BYTES;
import static org.xdmedge.store.log.EventFrameCodec.FRAME_MAGIC;
import static org.xdmedge.store.log.EventFrameCodec.LZ4_FRAME_MAGIC;
import static org.xdmedge.store.log.EventFrameCodec.PACKED_HEADER_BYTES;
import static org.xdmedge.store.log.EventFrameCodec.ZSTD_FRAME_MAGIC;
import static org.xdmedge.store.log.EventFrameCodec.isFrameMagic;
import static org.xdmedge.store.log.EventFrameCodec.readFrame;
import static org.xdmedge.store.log.EventLog.DIRECTORY;
import static org.xdmedge.store.log.EventLog.SEGMENT_HEADER_BYTES;
import static org.xdmedge.store.log.EventLog.SEGMENT_MAGIC;
import static org.xdmedge.store.log.EventLog.aligned;
import static org.xdmedge.store.log.EventLog.segments;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.store.ids.LoggedIds;
import org.xdmedge.store.log.EventFrameCodec.Unpacker;
import org.xdmedge.store.log.EventFrameCodec.Visitor;

/**
 * Reads the event log's segments back: finds where the log ends (and, when opening for writing,
 * cuts off what follows its last whole frame), and hands stored events to readers in order.
 *
 * <p>Segment: {@code <data>/events/NNNNNNNNNNNN.log}, a 16-byte header ({@code long magic
 * "XDM-EVL1", int version 1, int 0}), then frames ({@link EventFrameCodec}), each beginning on a
 * {@value EventLog#FRAME_ALIGNMENT}-byte boundary, with zeros between.
 *
 * <p>Recovery rules: a frame is all or nothing. The log ends at the first frame that is short,
 * has a wrong CRC or magic, or whose sequence numbers do not rise: a commit torn by a crash, none
 * of whose requests had been answered. Opening for writing truncates the last segment there, so a
 * later frame never follows stale bytes; zeros after the end (written ahead of small frames, or
 * padding a block) are cut off silently, anything else with a warning. A segment shorter than its
 * header was created as the process died and is given its header again. A packed frame with a
 * right CRC that does not decompress is damage: reading stops with an error.
 *
 * <p>Threads: static and stateless; a scan reads what is complete when it gets there, so it runs
 * beside the writer and beside retention (a segment deleted meanwhile reads as gone).
 */
public final class EventLogRecovery {
    private static final Logger log = LoggerFactory.getLogger(EventLogRecovery.class);

    private EventLogRecovery() {}

    /** Where a segment's frames end, and the last sequence number in it (0: none). */
    record End(long position, long lastSeq) {}

    /**
     * Finds the end of the last segment, open for reading and writing, and cuts off what follows
     * it (a torn commit, or zeros written ahead); returns that end.
     */
    static End repairTail(FileChannel channel, Path last) throws IOException {
        long size = channel.size();
        if (size < EventLog.SEGMENT_HEADER_BYTES) {
            // Created but its header never reached the disk: nothing was ever acknowledged in it.
            channel.truncate(0);
            EventLog.writeHeader(channel);
            size = EventLog.SEGMENT_HEADER_BYTES;
        }
        End end = findEnd(channel, last, 0);
        if (end.position() < size) {
            // Zeros after the last frame are what whole-block writes and the zeros written ahead of
            // small frames leave; anything else is torn.
            if (!zerosFrom(channel, end.position(), size)) {
                log.warn("{}: cutting off {} bytes after the last complete frame (a commit torn by a crash; none of it was acknowledged)",
                        last, size - end.position());
            }
            channel.truncate(end.position());
            channel.force(true);
        }
        return end;
    }

    /** The last sequence number of the segments before the last one, newest first, for a last segment that has none. */
    static long lastSeqBefore(List<Path> segments) throws IOException {
        long lastSeq = 0;
        for (int i = segments.size() - 2; i >= 0 && lastSeq == 0; i--) {
            try (FileChannel earlier = FileChannel.open(segments.get(i), StandardOpenOption.READ)) {
                lastSeq = findEnd(earlier, segments.get(i), 0).lastSeq();
            }
        }
        return lastSeq;
    }

    /**
     * As {@link #scan}, handing only each event's sequence number, datastream and id: what
     * rebuilding the event-id index needs, without a copy of every event.
     */
    public static long scanIds(Path dataDir, long afterSeq, LoggedIds.Visitor each) throws IOException {
        return scan(dataDir, afterSeq, null, each);
    }

    /**
     * Calls {@code each} for every event with a sequence number above {@code afterSeq}, in order;
     * returns the last sequence number in the log. Reads what is complete at the moment it gets
     * there, so it can run beside the writer.
     */
    static long scan(Path dataDir, long afterSeq, Visitor each) throws IOException {
        return scan(dataDir, afterSeq, each, null);
    }

    private static long scan(Path dataDir, long afterSeq, Visitor each, LoggedIds.Visitor ids) throws IOException {
        List<Path> segments = segments(dataDir.resolve(DIRECTORY));
        long last = 0;
        for (int i = 0; i < segments.size(); i++) {
            // A next segment retention deleted meanwhile reads as none: this one is still read.
            if (i + 1 < segments.size() && firstSeqOf(segments.get(i + 1)) <= afterSeq + 1) {
                continue; // every event of this segment comes before afterSeq's successor
            }
            try (FileChannel channel = FileChannel.open(segments.get(i), StandardOpenOption.READ)) {
                End end = findEnd(channel, segments.get(i), afterSeq, last, each, ids);
                last = Math.max(last, end.lastSeq);
            } catch (NoSuchFileException e) {
                // Retention deleted it (the oldest first) since the listing: its events are gone.
            }
        }
        return last;
    }

    /** Hands every event of one segment to {@code each}, in order; returns where its frames end. */
    static End readSegment(Path file, Visitor each) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return findEnd(channel, file, 0, 0, each, null);
        }
    }

    private static End findEnd(FileChannel channel, Path file, long afterSeq) throws IOException {
        return findEnd(channel, file, afterSeq, 0, null, null);
    }

    private static End findEnd(FileChannel channel, Path file, long afterSeq, long previousSeq, Visitor each,
                               LoggedIds.Visitor ids) throws IOException {
        return findEnd(channel, file, afterSeq, previousSeq, each, ids, SEGMENT_HEADER_BYTES, null);
    }

    /**
     * Where a reader that tails the log got to: a segment, and the offset of the frame holding its
     * next event (or of the log's end). Reading on from there skips the frames before it.
     */
    static final class Cursor {
        Path segment;
        long offset;
    }

    /**
     * As {@link #scan(Path, long, Visitor)}, starting at {@code cursor} when it still names a
     * segment of the log (else where {@code afterSeq} is), and leaving it where the reading stopped.
     */
    static long scan(Path dataDir, long afterSeq, Cursor cursor, Visitor each) throws IOException {
        List<Path> segments = segments(dataDir.resolve(DIRECTORY));
        int start = cursor.segment == null ? -1 : segments.indexOf(cursor.segment);
        long last = 0;
        for (int i = Math.max(0, start); i < segments.size(); i++) {
            if (start < 0 && i + 1 < segments.size() && firstSeqOf(segments.get(i + 1)) <= afterSeq + 1) {
                continue;
            }
            try (FileChannel channel = FileChannel.open(segments.get(i), StandardOpenOption.READ)) {
                long from = i == start ? cursor.offset : SEGMENT_HEADER_BYTES;
                End end = findEnd(channel, segments.get(i), afterSeq, 0, each, null, from, cursor);
                last = Math.max(last, end.lastSeq);
            } catch (NoSuchFileException e) {
                // Retention deleted it since the listing: its events are gone.
            }
        }
        return last;
    }

    /**
     * Walks the frames of one segment from its start, handing events above {@code afterSeq} to
     * {@code each} (when not null); stops at the first frame that is not whole and right.
     */
    private static End findEnd(FileChannel channel, Path file, long afterSeq, long previousSeq, Visitor each,
                               LoggedIds.Visitor ids, long from, Cursor cursor) throws IOException {
        long size = channel.size();
        checkHeader(channel, file, size);
        long at = Math.max(SEGMENT_HEADER_BYTES, from);
        if (cursor != null) {
            cursor.segment = file;
            cursor.offset = at;
        }
        long lastSeq = 0;
        ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER_BYTES);
        ByteBuffer payload = ByteBuffer.allocate(1 << 16);
        CRC32C check = new CRC32C();
        Unpacker unpacker = null;
        try {
            while (at + FRAME_HEADER_BYTES <= size) {
                header.clear();
                if (!readFully(channel, header, at)) {
                    break;
                }
                header.flip();
                int magic = header.getInt();
                int length = header.getInt();
                int expected = header.getInt();
                boolean packedFrame = magic == ZSTD_FRAME_MAGIC || magic == LZ4_FRAME_MAGIC;
                if ((magic != FRAME_MAGIC && !packedFrame) || length < (packedFrame ? PACKED_HEADER_BYTES + 1 : 4)
                        || at + FRAME_HEADER_BYTES + length > size) {
                    break;
                }
                if (payload.capacity() < length) {
                    payload = ByteBuffer.allocate(Math.max(length, payload.capacity() * 2));
                }
                payload.clear().limit(length);
                if (!readFully(channel, payload, at + FRAME_HEADER_BYTES)) {
                    break;
                }
                payload.flip();
                check.reset();
                check.update(payload.array(), 0, length);
                if ((int) check.getValue() != expected) {
                    break;
                }
                ByteBuffer events = payload;
                if (packedFrame) {
                    if (unpacker == null) {
                        unpacker = new Unpacker();
                    }
                    events = unpacker.unpack(magic == LZ4_FRAME_MAGIC, payload, length, file, at);
                }
                long frameLast = readFrame(events, Math.max(lastSeq, previousSeq), afterSeq, each, ids);
                if (frameLast < 0) {
                    break; // sequence numbers going back: not a frame of this log's order
                }
                lastSeq = frameLast;
                at = aligned(at + FRAME_HEADER_BYTES + length);
                if (cursor != null) {
                    cursor.offset = at; // a visitor stopping inside the next frame leaves it there
                }
            }
        } finally {
            if (unpacker != null) {
                unpacker.close();
            }
        }
        return new End(at, lastSeq);
    }

    private static void checkHeader(FileChannel channel, Path file, long size) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER_BYTES);
        if (size < SEGMENT_HEADER_BYTES || !readFully(channel, header, 0)) {
            return; // a segment created as the process died: empty (open() gives it its header)
        }
        header.flip();
        long magic = header.getLong();
        int version = header.getInt();
        if (magic != SEGMENT_MAGIC) {
            throw new IOException(file + " is not an xdm-edge event segment");
        }
        if (version != 1) {
            throw new IOException(file + " has format version " + version
                    + ", written by a newer xdm-edge; this one reads version 1");
        }
    }

    /** The first sequence number in a segment, or Long.MAX_VALUE when it has none (or is gone). */
    static long firstSeqOf(Path file) throws IOException {
        try {
            return firstSeq(file);
        } catch (NoSuchFileException e) {
            return Long.MAX_VALUE;
        }
    }

    private static long firstSeq(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(FRAME_HEADER_BYTES + 4 + 8);
            if (!readFully(channel, head, SEGMENT_HEADER_BYTES)) {
                return Long.MAX_VALUE;
            }
            head.flip();
            int magic = head.getInt();
            if (!isFrameMagic(magic)) {
                return Long.MAX_VALUE; // a packed frame's count and first number are where a plain one's are
            }
            head.getInt();
            head.getInt();
            return head.getInt() > 0 ? head.getLong() : Long.MAX_VALUE;
        }
    }

    static boolean readFully(FileChannel channel, ByteBuffer into, long at) throws IOException {
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                return false;
            }
            at += n;
        }
        return true;
    }

    private static boolean zerosFrom(FileChannel channel, long from, long to) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(1 << 16, Math.max(1, to - from)));
        for (long at = from; at < to; ) {
            chunk.clear().limit((int) Math.min(chunk.capacity(), to - at));
            int n = channel.read(chunk, at);
            if (n <= 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (chunk.get(i) != 0) {
                    return false;
                }
            }
            at += n;
        }
        return true;
    }
}
