package org.xdmedge.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stored events themselves: append-only segment files under {@code <data>/events/}, written by
 * one thread. Each commit appends one <em>frame</em> (every event of a group, behind one length and
 * one CRC-32C) and forces it to disk ({@code fdatasync}) before any of its requests is answered.
 *
 * <p>Why not rows in SQLite: there each event byte was written to the log, read back and written
 * again into the database file by checkpoints, and the B-tree work, the log and the checkpoints
 * were most of the storage CPU (docs/PERFORMANCE.md, fifth round). Here each byte is written once,
 * in whole blocks with direct I/O where the file system has it ({@link #openAppender}): through the
 * page cache, allocating a page for every 4 KiB appended was the writer's largest cost.
 *
 * <p>A frame is all or nothing: a frame torn by a crash (short, or its CRC wrong) ends the log,
 * and opening for writing cuts it off, so a later frame never follows stale bytes. None of a torn
 * frame's requests had been answered. Sequence numbers rise through the log; a segment's name is
 * its number in order. A new segment is created (and its directory entry forced) before the first
 * frame goes into it.
 *
 * <p>A small frame's write carries {@value #ZEROS_AHEAD_BYTES} bytes of zeros past its own end
 * when it would grow the file, so the next commits overwrite blocks already written and their
 * {@code fdatasync} has no metadata to write: appending made each one write the inode too (its
 * size and blocks) before the cache flush, half of a small commit's CPU and time here, and on a
 * file system with a journal it forces a journal commit. A large frame is appended as it is: for
 * it the zeros would double the bytes sent to the disk for a saving that its size already
 * dwarfs (docs/PERFORMANCE.md, twentieth round; preparing whole segments ahead on another thread
 * was tried in the fifth and fourteenth rounds, and its writes delayed the commits). Readers stop
 * at the zeros as at any end of the log.
 *
 * <p>Frame: {@code int magic, int payloadLength, int crc32c(payload), payload}, then zeros to the
 * next 512-byte boundary, where the next frame begins; payload:
 * {@code int count}, then per event {@code long seq, long receivedAt}, six strings (dataset,
 * datastream, event id, request id, primary namespace, primary id: {@code int length} (-1 for
 * null) and UTF-8) and the event JSON ({@code int length} and its bytes).
 *
 * <p>A packed frame ({@code "FRM3"} LZ4, {@code "FRM2"} zstd level 1: {@link FramePacking}) has the
 * same header; its payload is {@code int count, long firstSeq, int rawLength}, then that payload
 * compressed. A group's events share their keys and most values, so its frame shrinks many times
 * over, and the disk's bandwidth was what bounded 50-event requests (docs/PERFORMANCE.md,
 * eighteenth round); LZ4 costs the writer half of zstd's CPU, which bounded single events on one
 * CPU (nineteenth round). A frame that would not shrink is written plain. Every kind may follow
 * another in one segment; the CRC covers the bytes on disk, so a torn packed frame ends the log as
 * a torn plain one does.
 */
final class EventLog implements AutoCloseable {
    static final String DIRECTORY = "events";
    /** 64 MiB: opening after a crash reads the last segment once (tens of milliseconds). */
    static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    private static final long SEGMENT_MAGIC = 0x58444d2d45564c31L; // "XDM-EVL1"
    static final int SEGMENT_HEADER_BYTES = 16;
    private static final int FRAME_MAGIC = 0x46524d31; // "FRM1"
    private static final int ZSTD_FRAME_MAGIC = 0x46524d32; // "FRM2"
    private static final int LZ4_FRAME_MAGIC = 0x46524d33; // "FRM3"
    static final int FRAME_HEADER_BYTES = 12;
    /** Count, first sequence number and raw length: what a packed frame keeps ahead of its compressed bytes. */
    static final int PACKED_HEADER_BYTES = 16;
    /** zstd's fastest standard level: ~0.8-1.2 GB/s here on a group's events, 12-17 times smaller. */
    private static final int ZSTD_LEVEL = 1;
    /** The largest raw payload a packed frame may claim (a frame's events are held in memory together). */
    private static final int MAX_RAW_PAYLOAD_BYTES = 1 << 30;
    private static final int MAX_KEPT_FRAME_BYTES = 16 << 20;
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
    private final CRC32C crc = new CRC32C();
    private FileChannel channel;
    private long segment;
    private long position;
    private long lastSeq;
    /** Set when a failed append could not be cut off again: nothing more may be appended. */
    private IOException broken;
    private ByteBuffer frame = ByteBuffer.allocateDirect(1 << 20);
    private final FramePacking packing;
    /** Compresses the frames; null when {@code packing} is {@code NONE}. */
    private Packer packer;
    /** The packed frame, header first, when the group is compressed. */
    private ByteBuffer packed;
    private int count;
    /** Bytes of the frames committed since open, as written and as they would be plain (metrics; one writer). */
    private volatile long frameBytes;
    private volatile long plainFrameBytes;
    private byte[] scratch = new byte[256];
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

    private EventLog(Path directory, long segmentBytes, FramePacking packing) {
        this.directory = directory;
        this.segmentBytes = segmentBytes;
        this.packing = java.util.Objects.requireNonNull(packing, "packing");
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
        EventLog eventLog = new EventLog(directory, segmentBytes, packing);
        eventLog.packer = switch (packing) {
            case ZSTD -> new ZstdPacker();
            case LZ4 -> new Lz4Packer();
            case NONE -> null;
        };
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
            long size = channel.size();
            if (size < SEGMENT_HEADER_BYTES) {
                // Created but its header never reached the disk: nothing was ever acknowledged in it.
                channel.truncate(0);
                writeHeader(channel);
                size = SEGMENT_HEADER_BYTES;
            }
            End end = findEnd(channel, last, 0);
            if (end.position < size) {
                // Zeros after the last frame are what whole-block writes and the zeros written ahead of
                // small frames leave; anything else is torn.
                if (!zerosFrom(channel, end.position, size)) {
                    log.warn("{}: cutting off {} bytes after the last complete frame (a commit torn by a crash; none of it was acknowledged)",
                            last, size - end.position);
                }
                channel.truncate(end.position);
                channel.force(true);
            }
            eventLog.tailLength = (int) (end.position % eventLog.blockBytes);
            if (!readFully(channel, ByteBuffer.wrap(eventLog.tail, 0, eventLog.tailLength), end.position - eventLog.tailLength)) {
                throw new IOException(last + " ended while its last block was read");
            }
            channel.close();
            eventLog.channel = eventLog.openAppender(last);
            eventLog.segment = number(last);
            eventLog.position = end.position;
            eventLog.fileEnd = end.position; // the zeros after the last frame were cut off with anything torn
            eventLog.lastSeq = end.lastSeq;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        log.debug("event log {}: {}-byte blocks, {}", directory, eventLog.blockBytes, eventLog.direct ? "direct I/O" : "page cache");
        for (int i = segments.size() - 2; i >= 0 && eventLog.lastSeq == 0; i--) {
            try (FileChannel earlier = FileChannel.open(segments.get(i), StandardOpenOption.READ)) {
                eventLog.lastSeq = findEnd(earlier, segments.get(i), 0).lastSeq;
            }
        }
        return eventLog;
    }

    /** The sequence number of the last event in the log (0: none). */
    long lastSeq() {
        return lastSeq;
    }

    /** Starts a frame; events are then {@link #add}ed and the frame {@link #commit}ted. */
    void begin() {
        if (frame.capacity() > MAX_KEPT_FRAME_BYTES) {
            frame = ByteBuffer.allocateDirect(1 << 20); // a rare huge group does not pin its buffers
            blocks = null;
            packed = null;
        }
        frame.clear();
        frame.position(FRAME_HEADER_BYTES + 4);
        count = 0;
    }

    void add(long seq, StoredEvent e) {
        byte[] json = e.eventJson();
        ensure(16 + 6 * 4 + 3 * (length(e.dataset()) + length(e.datastreamId()) + length(e.eventId())
                + length(e.requestId()) + length(e.primaryNamespace()) + length(e.primaryId())) + 4 + json.length);
        frame.putLong(seq);
        frame.putLong(e.receivedAtMillis());
        putString(e.dataset());
        putString(e.datastreamId());
        putString(e.eventId());
        putString(e.requestId());
        putString(e.primaryNamespace());
        putString(e.primaryId());
        frame.putInt(json.length);
        frame.put(json);
        count++;
    }

    /** Appends the frame and forces it to disk; on failure the log is as before the frame. */
    void commit(long frameLastSeq) throws IOException {
        if (broken != null) {
            throw new IOException("the event log could not be repaired after an earlier failed write", broken);
        }
        int payload = frame.position() - FRAME_HEADER_BYTES;
        frame.putInt(FRAME_HEADER_BYTES, count);
        frame.flip();
        ByteBuffer written = packer == null ? null : pack(payload);
        if (written == null) {
            written = seal(frame, FRAME_MAGIC, payload);
        }
        if (position > SEGMENT_HEADER_BYTES && position + written.limit() > segmentBytes) {
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
        plainFrameBytes += FRAME_HEADER_BYTES + payload;
        // The bytes of the last block before the new end are written again with the next frame.
        int newTail = (int) (end % blockBytes);
        blocks.get((int) (end - blockStart) - newTail, tail, 0, newTail);
        tailLength = newTail;
    }

    /** One way of compressing a frame's payload: what a packed frame's magic names. */
    private interface Packer extends AutoCloseable {
        int magic();

        /** The most bytes {@code length} bytes may take compressed. */
        long bound(int length);

        /** Compresses {@code src[srcAt, srcAt + length)} into {@code dst} from {@code dstAt}; returns its bytes. */
        int compress(ByteBuffer src, int srcAt, int length, ByteBuffer dst, int dstAt, int room);

        @Override
        void close();
    }

    private static final class ZstdPacker implements Packer {
        private final ZstdCompressCtx zstd;

        ZstdPacker() throws IOException {
            try {
                zstd = new ZstdCompressCtx().setLevel(ZSTD_LEVEL).setChecksum(false); // the frame's CRC checks it
            } catch (LinkageError e) {
                throw new IOException("the event log compresses with zstd, whose native library (zstd-jni) cannot be loaded "
                        + "on this platform: " + e + "; set storage.compression: lz4 or none", e);
            }
        }

        @Override
        public int magic() {
            return ZSTD_FRAME_MAGIC;
        }

        @Override
        public long bound(int length) {
            return Zstd.compressBound(length);
        }

        @Override
        public int compress(ByteBuffer src, int srcAt, int length, ByteBuffer dst, int dstAt, int room) {
            return zstd.compressDirectByteBuffer(dst, dstAt, room, src, srcAt, length);
        }

        @Override
        public void close() {
            zstd.close();
        }
    }

    private static final class Lz4Packer implements Packer {
        private final LZ4Compressor lz4 = LZ4Factory.fastestInstance().fastCompressor(); // pure Java where JNI is not

        @Override
        public int magic() {
            return LZ4_FRAME_MAGIC;
        }

        @Override
        public long bound(int length) {
            return lz4.maxCompressedLength(length);
        }

        @Override
        public int compress(ByteBuffer src, int srcAt, int length, ByteBuffer dst, int dstAt, int room) {
            return lz4.compress(src, srcAt, length, dst, dstAt, room);
        }

        @Override
        public void close() {
        }
    }

    /** Puts the frame's header before its payload; returns the frame, from its header to its end. */
    private ByteBuffer seal(ByteBuffer frame, int magic, int payload) {
        crc.reset();
        crc.update(frame.slice(FRAME_HEADER_BYTES, payload));
        frame.putInt(0, magic);
        frame.putInt(4, payload);
        frame.putInt(8, (int) crc.getValue());
        return frame;
    }

    /**
     * The frame compressed into {@link #packed} and sealed, or null when that would not be smaller
     * than the plain frame.
     */
    private ByteBuffer pack(int payload) {
        int bound = (int) Math.min(Integer.MAX_VALUE - 64, packer.bound(payload));
        int capacity = FRAME_HEADER_BYTES + PACKED_HEADER_BYTES + bound;
        if (packed == null || packed.capacity() < capacity) {
            packed = ByteBuffer.allocateDirect(Math.max(capacity, packed == null ? 1 << 16 : 2 * packed.capacity()));
        }
        packed.clear(); // zstd checks the range against the limit
        int compressed;
        try {
            compressed = packer.compress(frame, FRAME_HEADER_BYTES, payload, packed, FRAME_HEADER_BYTES + PACKED_HEADER_BYTES,
                    bound);
        } catch (ZstdException | LZ4Exception e) {
            log.warn("{} could not compress a frame of {} bytes ({}); writing it plain", packing.configName(), payload,
                    e.getMessage());
            return null;
        }
        int stored = PACKED_HEADER_BYTES + compressed;
        if (stored >= payload) {
            return null;
        }
        packed.limit(FRAME_HEADER_BYTES + stored);
        packed.putInt(FRAME_HEADER_BYTES, count);
        packed.putLong(FRAME_HEADER_BYTES + 4, count > 0 ? frame.getLong(FRAME_HEADER_BYTES + 4) : 0);
        packed.putInt(FRAME_HEADER_BYTES + 12, payload);
        return seal(packed, packer.magic(), stored);
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
        if (blockStart + length > fileEnd && length <= ZEROS_AHEAD_MAX_WRITE) {
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
            forceDirectory(directory);
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
     * for each (appending through the page cache cost ~0.3-0.55 GB per CPU second here, directly ~7).
     */
    private FileChannel openAppender(Path file) throws IOException {
        if (!directIoAllowed) {
            direct = false;
            return FileChannel.open(file, StandardOpenOption.WRITE);
        }
        try {
            FileChannel appender = FileChannel.open(file, StandardOpenOption.WRITE, com.sun.nio.file.ExtendedOpenOption.DIRECT);
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

    /** Makes a new file's name durable (Linux); where a directory cannot be opened, nothing to do. */
    static void forceDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            log.debug("cannot force directory {}: {}", directory, e.getMessage());
        }
    }

    private void ensure(int more) {
        if (frame.remaining() >= more) {
            return;
        }
        ByteBuffer larger = ByteBuffer.allocateDirect(Math.max(frame.capacity() * 2, frame.position() + more + (1 << 16)));
        frame.flip();
        larger.put(frame);
        frame = larger;
    }

    private static int length(String s) {
        return s == null ? 0 : s.length();
    }

    /**
     * Strings are ids and names, almost always ASCII: copied char by char into a scratch array and
     * put in bulk (a put per byte into the direct buffer was most of the writer's Java time), UTF-8
     * otherwise.
     */
    private void putString(String s) {
        if (s == null) {
            frame.putInt(-1);
            return;
        }
        int n = s.length();
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, 2 * scratch.length)];
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                frame.putInt(utf8.length).put(utf8);
                return;
            }
            scratch[i] = (byte) c;
        }
        frame.putInt(n).put(scratch, 0, n);
    }

    @Override
    public void close() throws IOException {
        if (packer != null) {
            packer.close();
            packer = null;
        }
        if (channel != null) {
            channel.close();
        }
    }

    // ---- reading ----

    /** Receives each stored event in log order with its sequence number. */
    interface Visitor {
        void accept(long seq, StoredEvent event) throws IOException;
    }

    /** Receives the ids of each stored event in log order, without the rest of the event. */
    interface IdVisitor {
        void accept(long seq, String datastreamId, String eventId) throws IOException;
    }

    /**
     * As {@link #scan}, handing only each event's sequence number, datastream and id: what
     * rebuilding the event-id index needs, without a copy of every event.
     */
    static long scanIds(Path dataDir, long afterSeq, IdVisitor each) throws IOException {
        return scan(dataDir, afterSeq, null, each);
    }

    /** True when {@code dataDir} has an event log. */
    static boolean exists(Path dataDir) {
        return Files.isDirectory(dataDir.resolve(DIRECTORY));
    }

    /**
     * Calls {@code each} for every event with a sequence number above {@code afterSeq}, in order;
     * returns the last sequence number in the log. Reads what is complete at the moment it gets
     * there, so it can run beside the writer.
     */
    static long scan(Path dataDir, long afterSeq, Visitor each) throws IOException {
        return scan(dataDir, afterSeq, each, null);
    }

    private static long scan(Path dataDir, long afterSeq, Visitor each, IdVisitor ids) throws IOException {
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
            } catch (java.nio.file.NoSuchFileException e) {
                // Retention deleted it (the oldest first) since the listing: its events are gone.
            }
        }
        return last;
    }

    private record End(long position, long lastSeq) {}

    private static End findEnd(FileChannel channel, Path file, long afterSeq) throws IOException {
        return findEnd(channel, file, afterSeq, 0, null, null);
    }

    /**
     * Walks the frames of one segment from its start, handing events above {@code afterSeq} to
     * {@code each} (when not null); stops at the first frame that is not whole and right.
     */
    private static End findEnd(FileChannel channel, Path file, long afterSeq, long previousSeq, Visitor each,
                               IdVisitor ids) throws IOException {
        long size = channel.size();
        checkHeader(channel, file, size);
        long at = SEGMENT_HEADER_BYTES;
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
            }
        } finally {
            if (unpacker != null) {
                unpacker.close();
            }
        }
        return new End(at, lastSeq);
    }

    /** Decompresses packed frames into one reused buffer. */
    private static final class Unpacker implements AutoCloseable {
        private ZstdDecompressCtx zstd;
        private LZ4SafeDecompressor lz4;
        private ByteBuffer raw = ByteBuffer.allocate(1 << 16);

        /**
         * The plain payload of a packed frame whose CRC was right. One that does not decompress is
         * not torn but damaged: reading stops with an error rather than cut off what follows it.
         */
        ByteBuffer unpack(boolean lz4Frame, ByteBuffer payload, int length, Path file, long at) throws IOException {
            int rawLength = payload.getInt(12);
            if (rawLength < 4 || rawLength > MAX_RAW_PAYLOAD_BYTES) {
                throw new IOException(file + ": the packed frame at byte " + at + " claims " + rawLength + " bytes of events");
            }
            if (raw.capacity() < rawLength) {
                raw = ByteBuffer.allocate(Math.max(rawLength, raw.capacity() * 2));
            }
            int n;
            try {
                n = lz4Frame
                        ? lz4().decompress(payload.array(), PACKED_HEADER_BYTES, length - PACKED_HEADER_BYTES, raw.array(), 0,
                                rawLength)
                        : zstd().decompressByteArray(raw.array(), 0, rawLength, payload.array(), PACKED_HEADER_BYTES,
                                length - PACKED_HEADER_BYTES);
            } catch (ZstdException | LZ4Exception e) {
                throw new IOException(file + ": the packed frame at byte " + at + " does not decompress: " + e.getMessage(), e);
            }
            if (n != rawLength) {
                throw new IOException(file + ": the packed frame at byte " + at + " decompressed to " + n + " bytes, not "
                        + rawLength);
            }
            return raw.clear().limit(rawLength);
        }

        private ZstdDecompressCtx zstd() throws IOException {
            if (zstd == null) {
                try {
                    zstd = new ZstdDecompressCtx();
                } catch (LinkageError e) {
                    throw new IOException("the event log has zstd-compressed frames, and zstd's native library (zstd-jni) "
                            + "cannot be loaded on this platform: " + e, e);
                }
            }
            return zstd;
        }

        /** The safe decompressor: it checks every offset against the buffers, whatever the bytes. */
        private LZ4SafeDecompressor lz4() {
            if (lz4 == null) {
                lz4 = LZ4Factory.fastestInstance().safeDecompressor();
            }
            return lz4;
        }

        @Override
        public void close() {
            if (zstd != null) {
                zstd.close();
            }
        }
    }

    /** Returns the frame's last sequence number, or -1 if its numbers do not rise above {@code previous}. */
    private static long readFrame(ByteBuffer payload, long previous, long afterSeq, Visitor each, IdVisitor ids)
            throws IOException {
        int n = payload.getInt();
        long last = previous;
        byte[] bytes = payload.array();
        for (int i = 0; i < n; i++) {
            long seq = payload.getLong();
            if (seq <= last) {
                return -1;
            }
            last = seq;
            long receivedAt = payload.getLong();
            if ((each == null && ids == null) || seq <= afterSeq) {
                skipFields(payload, 7); // six strings and the JSON, each behind its length
                continue;
            }
            if (ids != null) {
                skipFields(payload, 1);
                String datastream = getString(payload, bytes);
                String eventId = getString(payload, bytes);
                skipFields(payload, 4);
                ids.accept(seq, datastream, eventId);
                continue;
            }
            String dataset = getString(payload, bytes);
            String datastream = getString(payload, bytes);
            String eventId = getString(payload, bytes);
            String requestId = getString(payload, bytes);
            String ns = getString(payload, bytes);
            String id = getString(payload, bytes);
            int jsonLength = payload.getInt();
            byte[] json = new byte[jsonLength];
            payload.get(json);
            each.accept(seq, new StoredEvent(requestId, datastream, dataset, receivedAt, eventId, ns, id, json));
        }
        return last;
    }

    private static void skipFields(ByteBuffer payload, int fields) {
        for (int f = 0; f < fields; f++) {
            int length = payload.getInt();
            payload.position(payload.position() + Math.max(0, length));
        }
    }

    private static String getString(ByteBuffer payload, byte[] bytes) {
        int length = payload.getInt();
        if (length < 0) {
            return null;
        }
        String s = new String(bytes, payload.position(), length, StandardCharsets.UTF_8);
        payload.position(payload.position() + length);
        return s;
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
        } catch (java.nio.file.NoSuchFileException e) {
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
            if (magic != FRAME_MAGIC && magic != ZSTD_FRAME_MAGIC && magic != LZ4_FRAME_MAGIC) {
                return Long.MAX_VALUE; // a packed frame's count and first number are where a plain one's are
            }
            head.getInt();
            head.getInt();
            return head.getInt() > 0 ? head.getLong() : Long.MAX_VALUE;
        }
    }

    private static boolean readFully(FileChannel channel, ByteBuffer into, long at) throws IOException {
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                return false;
            }
            at += n;
        }
        return true;
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
