package org.xdmedge.store.log;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.store.NumberedFiles;

/**
 * The stored events themselves, appended: segment files under {@code <data>/events/}, written by
 * one thread. Each commit appends one frame ({@link EventFrameCodec}: every event of a group,
 * behind one length and one CRC-32C) and forces it to disk ({@code fdatasync}) before any of its
 * requests is answered. Reading back and the repair on open are {@link EventLogRecovery}'s.
 *
 * <p>Why a log and not rows in a database: each event byte is written once, in whole blocks, with
 * direct I/O where the file system has it ({@link #openAppender}); a database writes each byte to
 * its own log and again into its file, and through the page cache allocating a page for every 4
 * KiB appended costs the writer more than the rest of the append.
 *
 * <p>Layout: a segment is a 16-byte header, then frames, each beginning on a {@value
 * #FRAME_ALIGNMENT}-byte boundary (so no disk sector holds bytes of two frames); a segment's name
 * is its number in order, and a new one is begun once the next frame would pass {@code
 * segmentBytes}. Every write is of whole blocks: the current block's bytes before the frame are
 * written again with it.
 *
 * <p>Invariants: sequence numbers rise through the log. A new segment is created, its header
 * forced and its directory entry forced before the first frame goes into it. A failed append is
 * cut off again, so the log is as before the frame; if that fails too the log is {@link #broken}
 * and takes no more frames until reopened.
 *
 * <p>Zeros ahead: a small frame's write carries {@value #ZEROS_AHEAD_BYTES} bytes of zeros past its
 * own end when it would grow the file, so the next commits overwrite blocks already written and
 * their {@code fdatasync} has no metadata (size, blocks) to write, and on a file system with a
 * journal forces no journal commit. A large frame is appended as it is: for it the zeros would
 * double the bytes sent to the disk for a saving its size dwarfs. Preparing whole segments ahead
 * on another thread is not done: its writes would delay the commits. Readers stop at the zeros as
 * at any end of the log. {@code storage.zerosAhead: false} turns them off, for file systems where
 * no write overwrites in place (copy-on-write), so the zeros buy nothing there.
 *
 * <p>Threads: one writer (the store's); {@link #frameBytes} and {@link #plainFrameBytes} are read
 * by metrics. Readers open the files on their own ({@link EventLogRecovery}).
 */
public final class EventLog implements AutoCloseable {
    public static final String DIRECTORY = "events";
    /** 64 MiB: opening after a crash reads the last segment once (tens of milliseconds). */
    static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    static final long SEGMENT_MAGIC = 0x58444d2d45564c31L; // "XDM-EVL1"
    static final int SEGMENT_HEADER_BYTES = 16;
    /** Frames begin on disk-sector boundaries (see {@link #blocksFor}). */
    static final int FRAME_ALIGNMENT = 512;
    private static final byte[] ZERO_BLOCK = new byte[4096];
    /** Zeros a small frame's write carries past its end when it grows the file (see the class comment). */
    static final int ZEROS_AHEAD_BYTES = 256 << 10;
    /** Writes of up to this many bytes bring zeros ahead with them; larger ones grow the file by themselves only. */
    static final int ZEROS_AHEAD_MAX_WRITE = 64 << 10;
    static final String SUFFIX = ".log";
    private static final Logger log = LoggerFactory.getLogger(EventLog.class);

    private final Path directory;
    private final long segmentBytes;
    private FileChannel channel;
    private long segment;
    private long position;
    private long lastSeq;
    /** Set when a failed append could not be cut off again: nothing more may be appended. */
    private IOException broken;
    /** Encodes each commit's frame. */
    private final EventFrameCodec codec;
    /** Bytes of the frames committed since open, as written and as they would be plain (metrics; one writer). */
    private volatile long frameBytes;
    private volatile long plainFrameBytes;
    /** The unit of every write: the file system's block (direct I/O needs it), at least 4 KiB. */
    private int blockBytes = 4096;
    private boolean direct;
    private boolean directIoAllowed = true;
    private ByteBuffer blocks;
    /** The bytes of the current block before {@code position}: each write starts at its block's start. */
    private byte[] tail = new byte[4096];
    private int tailLength;
    /** The current segment's size as this writer left it: blocks below it are written (frames or zeros). */
    private long fileEnd;
    /** Whether small frames that grow the file bring zeros ahead ({@code storage.zerosAhead}). */
    private boolean zerosAhead = true;

    private EventLog(Path directory, long segmentBytes, EventFrameCodec codec) {
        this.directory = directory;
        this.segmentBytes = segmentBytes;
        this.codec = codec;
    }

    /**
     * Opens the log under {@code dataDir} for appending, creating it if need be: finds the end of
     * the last segment and cuts off a torn frame there.
     */
    static EventLog open(Path dataDir, long segmentBytes, FramePacking packing) throws IOException {
        return open(dataDir, segmentBytes, packing, true);
    }

    /** As {@link #open(Path, long, FramePacking)}; {@code directIo} false writes through the page cache (tests). */
    static EventLog open(Path dataDir, long segmentBytes, FramePacking packing, boolean directIo) throws IOException {
        Path directory = dataDir.resolve(DIRECTORY);
        Files.createDirectories(directory);
        EventLog eventLog = new EventLog(directory, segmentBytes, new EventFrameCodec(packing));
        eventLog.directIoAllowed = directIo;
        // Direct I/O wants offsets, lengths and memory aligned to this (the JDK checks it).
        long block = Files.getFileStore(directory).getBlockSize();
        if (block > 4096 && block <= 65536 && Long.bitCount(block) == 1) {
            eventLog.blockBytes = (int) block;
            eventLog.tail = new byte[(int) block];
        } else if (block > 4096 || Long.bitCount(block) != 1) {
            eventLog.directIoAllowed = false; // an odd block size: whole 4 KiB blocks through the page cache
        }
        List<Path> segments = segments(directory);
        if (segments.isEmpty()) {
            eventLog.startSegment(1);
            return eventLog;
        }
        Path last = segments.get(segments.size() - 1);
        FileChannel channel = FileChannel.open(last, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            EventLogRecovery.End end = EventLogRecovery.repairTail(channel, last);
            eventLog.tailLength = (int) (end.position() % eventLog.blockBytes);
            if (!EventLogRecovery.readFully(channel, ByteBuffer.wrap(eventLog.tail, 0, eventLog.tailLength),
                    end.position() - eventLog.tailLength)) {
                throw new IOException(last + " ended while its last block was read");
            }
            channel.close();
            eventLog.channel = eventLog.openAppender(last);
            eventLog.segment = number(last);
            eventLog.position = end.position();
            eventLog.fileEnd = end.position(); // the zeros after the last frame were cut off with anything torn
            eventLog.lastSeq = end.lastSeq();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        log.debug("event log {}: {}-byte blocks, {}", directory, eventLog.blockBytes, eventLog.direct ? "direct I/O" : "page cache");
        if (eventLog.lastSeq == 0) {
            eventLog.lastSeq = EventLogRecovery.lastSeqBefore(segments);
        }
        return eventLog;
    }

    /** True when {@code dataDir} has an event log. */
    static boolean exists(Path dataDir) {
        return Files.isDirectory(dataDir.resolve(DIRECTORY));
    }

    /** The sequence number of the last event in the log (0: none). */
    long lastSeq() {
        return lastSeq;
    }

    /** Starts a frame; events are then {@link #add}ed and the frame {@link #commit}ted. */
    void begin() {
        if (codec.begin()) {
            blocks = null; // a rare huge group does not pin its buffers
        }
    }

    void add(long seq, StoredEvent e) {
        codec.add(seq, e);
    }

    /** Appends the frame and forces it to disk; on failure the log is as before the frame. */
    void commit(long frameLastSeq) throws IOException {
        if (broken != null) {
            throw new IOException("the event log could not be repaired after an earlier failed write", broken);
        }
        int payload = codec.plainPayloadBytes();
        ByteBuffer written = codec.encode();
        if (position > SEGMENT_HEADER_BYTES && (rollRequested || position + written.limit() > segmentBytes)) {
            rollRequested = false;
            nextSegment();
        }
        long start = position;
        long end = aligned(start + written.limit());
        ByteBuffer blocks = blocksFor(written, end);
        long blockStart = start - tailLength;
        try {
            long at = blockStart;
            while (blocks.hasRemaining()) {
                at += channel.write(blocks, at);
            }
            channel.force(false);
        } catch (IOException e) {
            try {
                channel.truncate(start);
                channel.force(false);
                fileEnd = start;
            } catch (IOException cut) {
                e.addSuppressed(cut);
                broken = e;
            }
            throw e;
        }
        fileEnd = Math.max(fileEnd, blockStart + blocks.limit());
        position = end;
        lastSeq = frameLastSeq;
        frameBytes += written.limit();
        plainFrameBytes += EventFrameCodec.FRAME_HEADER_BYTES + payload;
        // The bytes of the last block before the new end are written again with the next frame.
        int newTail = (int) (end % blockBytes);
        blocks.get((int) (end - blockStart) - newTail, tail, 0, newTail);
        tailLength = newTail;
    }

    /**
     * The whole blocks that the frame touches, ready to write at {@code position - tailLength}: the
     * current block's bytes before the frame (unchanged), the frame, zeros to the next
     * {@value #FRAME_ALIGNMENT}-byte boundary (where the next frame begins, so no disk sector holds
     * bytes of two frames) and on to the end of the block, then, for a small frame that grows the
     * file, {@value #ZEROS_AHEAD_BYTES} bytes of zeros more (capped at the segment's size). Whole
     * aligned blocks are what direct I/O takes; through the page cache they also spare the kernel
     * reading a partly written page.
     */
    private ByteBuffer blocksFor(ByteBuffer frame, long end) {
        int frameBytes = frame.limit();
        int used = tailLength + (int) (end - position);
        int length = (used + blockBytes - 1) / blockBytes * blockBytes;
        long blockStart = position - tailLength;
        if (zerosAhead && blockStart + length > fileEnd && length <= ZEROS_AHEAD_MAX_WRITE) {
            // Growing the file: by enough zeros that the next commits only overwrite (class comment).
            long segmentEnd = (segmentBytes + blockBytes - 1) / blockBytes * blockBytes;
            length = (int) Math.max(length, Math.min(length + ZEROS_AHEAD_BYTES, segmentEnd - blockStart));
        }
        if (blocks == null || blocks.capacity() < length) {
            blocks = alignedBuffer(Math.max(length, blocks == null ? 1 << 20 : 2 * blocks.capacity()), blockBytes);
        }
        blocks.clear();
        blocks.put(tail, 0, tailLength);
        blocks.put(frame);
        for (int zeros = length - tailLength - frameBytes; zeros > 0; ) {
            int n = Math.min(zeros, ZERO_BLOCK.length);
            blocks.put(ZERO_BLOCK, 0, n);
            zeros -= n;
        }
        return blocks.flip();
    }

    /** {@code false}: every write grows the file by its own blocks only (see the class comment). */
    void zerosAhead(boolean ahead) {
        zerosAhead = ahead;
    }

    /** Where a frame ending at {@code end} lets the next one begin. */
    static long aligned(long end) {
        return (end + FRAME_ALIGNMENT - 1) / FRAME_ALIGNMENT * FRAME_ALIGNMENT;
    }

    private static ByteBuffer alignedBuffer(int capacity, int alignment) {
        return ByteBuffer.allocateDirect(capacity + alignment).alignedSlice(alignment).limit(capacity).slice();
    }

    /** Bytes of the frames committed since open, as written (packed or plain, without their padding). */
    long frameBytes() {
        return frameBytes;
    }

    /** Bytes the frames committed since open would have taken plain: with {@link #frameBytes}, what packing saves. */
    long plainFrameBytes() {
        return plainFrameBytes;
    }

    /** True once a failed append could not be undone: the store must be restarted (opening repairs). */
    boolean broken() {
        return broken != null;
    }

    /** Set by {@link #requestRoll}: the next commit, or the writer when idle, begins a new segment. */
    private volatile boolean rollRequested;

    /** Asks for a new segment, so the current one is closed and can be rewritten (privacy deletes). */
    void requestRoll() {
        rollRequested = true;
    }

    /** On the writer thread while it is idle: begins the new segment asked for, if the current one holds a frame. */
    void rollIfRequested() throws IOException {
        if (rollRequested) {
            rollRequested = false;
            if (position > SEGMENT_HEADER_BYTES && broken == null) {
                nextSegment();
            }
        }
    }

    /** The number of the segment appended to. */
    long segment() {
        return segment;
    }

    private void nextSegment() throws IOException {
        FileChannel full = channel;
        startSegment(segment + 1); // if this fails, the full segment stays the current one
        full.close();
    }

    private void startSegment(long number) throws IOException {
        Path file = directory.resolve(name(number));
        if (Files.exists(file) && Files.size(file) <= SEGMENT_HEADER_BYTES) {
            Files.delete(file); // left by an earlier attempt that failed before its first frame
        }
        FileChannel created = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            writeHeader(created);
            created.force(true);
            NumberedFiles.forceDirectory(directory);
        } finally {
            created.close();
        }
        channel = openAppender(file);
        segment = number;
        position = SEGMENT_HEADER_BYTES;
        fileEnd = SEGMENT_HEADER_BYTES;
        putHeader(ByteBuffer.wrap(tail));
        tailLength = SEGMENT_HEADER_BYTES;
    }

    /**
     * The segment opened for appending whole blocks, with direct I/O where the JDK and the file
     * system have it: the bytes then go from the frame buffer to the disk without a page-cache page
     * for each, which is many times cheaper in CPU per byte than appending through the cache.
     */
    private FileChannel openAppender(Path file) throws IOException {
        if (!directIoAllowed) {
            direct = false;
            return FileChannel.open(file, StandardOpenOption.WRITE);
        }
        try {
            FileChannel appender = FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
            direct = true;
            return appender;
        } catch (UnsupportedOperationException | IOException e) {
            direct = false;
            return FileChannel.open(file, StandardOpenOption.WRITE);
        }
    }

    /** True when the log's segments are written with direct I/O. */
    boolean direct() {
        return direct;
    }

    /** Puts a segment header at the start of {@code buffer} (absolute: its position is left alone). */
    static void putHeader(ByteBuffer buffer) {
        buffer.putLong(0, SEGMENT_MAGIC).putInt(8, 1).putInt(12, 0);
    }

    static void writeHeader(FileChannel channel) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER_BYTES);
        putHeader(header);
        while (header.hasRemaining()) {
            channel.write(header, header.position());
        }
    }

    @Override
    public void close() throws IOException {
        codec.close();
        if (channel != null) {
            channel.close();
        }
    }

    static List<Path> segments(Path directory) throws IOException {
        return NumberedFiles.list(directory, SUFFIX);
    }

    private static long number(Path segment) {
        return NumberedFiles.number(segment, SUFFIX);
    }

    static String name(long number) {
        return NumberedFiles.name(number, 12, SUFFIX);
    }
}
