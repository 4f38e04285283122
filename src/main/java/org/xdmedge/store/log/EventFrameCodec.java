package org.xdmedge.store.log;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.store.ids.LoggedIds;

/**
 * The event log's frame: the bytes of one commit's events, encoded by the writer and decoded by
 * readers ({@link EventLogRecovery}).
 *
 * <p>Frame: {@code int magic, int payloadLength, int crc32c(payload), payload}. A plain frame
 * ({@code "FRM1"}) has the payload {@code int count}, then per event {@code long seq, long
 * receivedAt}, six strings (dataset, datastream, event id, request id, primary namespace, primary
 * id: {@code int length} (-1 for null) and UTF-8) and the event JSON ({@code int length} and its
 * bytes). A packed frame ({@code "FRM3"} LZ4, {@code "FRM2"} zstd level {@value #ZSTD_LEVEL}:
 * {@link FramePacking}) has the payload {@code int count, long firstSeq, int rawLength}, then the
 * plain payload compressed; count and first sequence number sit where a plain frame's do.
 *
 * <p>Why packed: a group's events share their keys and most values, so its frame shrinks many
 * times over, and the disk's bandwidth is what bounds large requests; LZ4 is the default as it
 * costs the writer about half of zstd's CPU. A frame that would not shrink is written plain.
 *
 * <p>Invariants: sequence numbers rise within a frame and from frame to frame; the CRC covers the
 * payload as written (packed or not), so a torn packed frame reads as torn as a plain one does. A
 * packed frame whose CRC is right but that does not decompress is damage, not a tear: reading
 * stops with an error.
 *
 * <p>Threads: an instance encodes for one writer; {@link #readFrame} and {@link Unpacker} serve
 * one reader each.
 */
final class EventFrameCodec implements AutoCloseable {
    static final int FRAME_MAGIC = 0x46524d31; // "FRM1"
    static final int ZSTD_FRAME_MAGIC = 0x46524d32; // "FRM2"
    static final int LZ4_FRAME_MAGIC = 0x46524d33; // "FRM3"
    static final int FRAME_HEADER_BYTES = 12;
    /** Count, first sequence number and raw length: what a packed frame keeps ahead of its compressed bytes. */
    static final int PACKED_HEADER_BYTES = 16;
    /** zstd's fastest standard level: around 1 GB/s on a group's events, an order of magnitude smaller. */
    private static final int ZSTD_LEVEL = 1;
    /** The largest raw payload a packed frame may claim (a frame's events are held in memory together). */
    private static final int MAX_RAW_PAYLOAD_BYTES = 1 << 30;
    private static final int MAX_KEPT_FRAME_BYTES = 16 << 20;
    private static final Logger log = LoggerFactory.getLogger(EventFrameCodec.class);

    private final CRC32C crc = new CRC32C();
    private final FramePacking packing;
    /** Compresses the frames; null when {@code packing} is {@code NONE}. */
    private Packer packer;
    /** The frame being built: header room, then the plain payload. */
    private ByteBuffer frame = ByteBuffer.allocateDirect(1 << 20);
    /** The packed frame, header first, when the group is compressed. */
    private ByteBuffer packed;
    private int count;
    private byte[] scratch = new byte[256];

    EventFrameCodec(FramePacking packing) throws IOException {
        this.packing = Objects.requireNonNull(packing, "packing");
        this.packer = switch (packing) {
            case ZSTD -> new ZstdPacker();
            case LZ4 -> new Lz4Packer();
            case NONE -> null;
        };
    }

    /** True for the magic of any kind of frame. */
    static boolean isFrameMagic(int magic) {
        return magic == FRAME_MAGIC || magic == ZSTD_FRAME_MAGIC || magic == LZ4_FRAME_MAGIC;
    }

    /**
     * Starts a frame; events are then {@link #add}ed and the frame {@link #encode}d. True when a
     * rare huge frame's buffers were let go (so the caller may drop its own large ones too).
     */
    boolean begin() {
        boolean shrunk = false;
        if (frame.capacity() > MAX_KEPT_FRAME_BYTES) {
            frame = ByteBuffer.allocateDirect(1 << 20); // a rare huge group does not pin its buffers
            packed = null;
            shrunk = true;
        }
        frame.clear();
        frame.position(FRAME_HEADER_BYTES + 4);
        count = 0;
        return shrunk;
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

    /** The bytes of the frame's plain payload so far. */
    int plainPayloadBytes() {
        return frame.position() - FRAME_HEADER_BYTES;
    }

    /**
     * Ends the frame: packed if that makes it smaller, else plain; returns it, from its header to
     * its end, valid until the next {@link #begin}.
     */
    ByteBuffer encode() {
        int payload = plainPayloadBytes();
        frame.putInt(FRAME_HEADER_BYTES, count);
        frame.flip();
        ByteBuffer written = packer == null ? null : pack(payload);
        return written != null ? written : seal(frame, FRAME_MAGIC, payload);
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
     * put in bulk (a put per byte into the direct buffer costs far more), UTF-8 otherwise.
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
    public void close() {
        if (packer != null) {
            packer.close();
            packer = null;
        }
    }

    // ---- decoding ----

    /** Receives each stored event in log order with its sequence number. */
    interface Visitor {
        void accept(long seq, StoredEvent event) throws IOException;
    }

    /** Decompresses packed frames into one reused buffer. */
    static final class Unpacker implements AutoCloseable {
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
    static long readFrame(ByteBuffer payload, long previous, long afterSeq, Visitor each, LoggedIds.Visitor ids)
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
                if (eventId != null) { // null: a deleted event's blanked record (SegmentRewrite)
                    ids.accept(seq, datastream, eventId);
                }
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
}
