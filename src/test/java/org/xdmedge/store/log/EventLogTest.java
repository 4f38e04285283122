package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.StoredEvent;

/**
 * The segment files on their own: what a crash can leave at the end, and what opening makes of it.
 * Run with direct I/O (where the file system has it) and LZ4-packed frames, as the edge writes them
 * by default; in {@link EventLogThroughPageCacheTest} through the page cache, in
 * {@link EventLogZstdFramesTest} with zstd frames and in {@link EventLogPlainFramesTest} with
 * compression off.
 */
class EventLogTest {
    static final int PLAIN = 0x46524d31;
    static final int ZSTD = 0x46524d32;
    static final int LZ4 = 0x46524d33;

    @TempDir
    Path dir;

    boolean directIo() {
        return true;
    }

    FramePacking packing() {
        return FramePacking.LZ4;
    }

    /** The magic of the frames {@code packing} writes (of events that shrink). */
    static int magicOf(FramePacking packing) {
        return switch (packing) {
            case NONE -> PLAIN;
            case ZSTD -> ZSTD;
            case LZ4 -> LZ4;
        };
    }

    EventLog open(long segmentBytes) throws Exception {
        return EventLog.open(dir, segmentBytes, packing(), directIo());
    }

    @Test
    void aFrameTornByACrashIsCutOffWholeAndWritingGoesOnAfterTheLastCompleteOne() throws Exception {
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 1, "a", "b");
            append(log, 3, "c", "d", "e");
        }
        Path segment = onlySegment();
        long complete = frameEnd(segment); // the file itself runs on with zeros to the end of its block
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 6, "torn-1", "torn-2");
        }
        // The crash: the last frame reached the file only in part (and the zeros after it not at all).
        long whole = frameEnd(segment);
        assertThat(whole).isGreaterThan(complete);
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(complete + (whole - complete) / 2);
        }
        assertThat(ids()).as("a reader stops before the torn frame").containsExactly("a", "b", "c", "d", "e");
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.lastSeq()).isEqualTo(5);
            assertThat(Files.size(segment)).as("cut off at the last complete frame").isEqualTo(complete);
            append(log, 6, "f");
        }
        assertThat(ids()).containsExactly("a", "b", "c", "d", "e", "f");
    }

    @Test
    void aFrameTornInsideTheZerosWrittenAheadIsCutOffAndWritingGoesOnAfterTheLastCompleteOne() throws Exception {
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 1, "a", "b");
        }
        Path segment = onlySegment();
        long complete = frameEnd(segment);
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 3, "torn-1", "torn-2");
        }
        long whole = frameEnd(segment);
        long size = Files.size(segment);
        assertThat(size).as("zeros written ahead of the frame").isGreaterThan(whole);
        // The crash: the frame's first half reached the disk, its second half's blocks still hold the zeros.
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.seek(complete + (whole - complete) / 2);
            f.write(new byte[(int) (whole - complete)]);
        }
        assertThat(Files.size(segment)).isEqualTo(size);
        assertThat(ids()).as("a reader stops before the torn frame").containsExactly("a", "b");
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.lastSeq()).isEqualTo(2);
            assertThat(Files.size(segment)).as("cut off at the last complete frame").isEqualTo(complete);
            append(log, 3, "c");
        }
        assertThat(ids()).containsExactly("a", "b", "c");
    }

    @Test
    void smallFramesOverwriteZerosWrittenAheadSoCommitsDoNotGrowTheFile() throws Exception {
        Path segment;
        long size;
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 1, "e1");
            segment = onlySegment();
            size = Files.size(segment);
            assertThat(size).as("the first small frame's write carries zeros ahead")
                    .isGreaterThanOrEqualTo(frameEnd(segment) + EventLog.ZEROS_AHEAD_BYTES - blockBytes());
            for (int i = 2; i <= 11; i++) {
                append(log, i, "e" + i);
                assertThat(Files.size(segment)).as("the file's size after frame %d", i).isEqualTo(size);
            }
        }
        byte[] bytes = Files.readAllBytes(segment);
        for (int i = (int) frameEnd(segment); i < bytes.length; i++) {
            assertThat(bytes[i]).as("byte %d after the last frame", i).isZero();
        }
        assertThat(ids()).containsExactly("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11");
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.lastSeq()).isEqualTo(11);
            append(log, 12, "e12");
        }
        assertThat(ids()).hasSize(12).endsWith("e11", "e12");
    }

    @Test
    void withoutZerosAheadEachSmallFrameGrowsTheFileByItsOwnBlocksOnly() throws Exception {
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            log.zerosAhead(false);
            for (int i = 1; i <= 5; i++) {
                append(log, i, "e" + i);
                Path segment = onlySegment();
                assertThat(Files.size(segment)).as("the file's size after frame %d", i)
                        .isLessThan(frameEnd(segment) + blockBytes());
            }
        }
        assertThat(ids()).containsExactly("e1", "e2", "e3", "e4", "e5");
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.lastSeq()).isEqualTo(5);
            append(log, 6, "e6");
        }
        assertThat(ids()).hasSize(6).endsWith("e5", "e6");
    }

    @Test
    void aLargeFrameGrowsTheFileByItselfOnly() throws Exception {
        String[] many = new String[40];
        for (int i = 0; i < many.length; i++) {
            many[i] = "big" + i;
        }
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 1, many);
        }
        Path segment = onlySegment();
        assertThat(frameEnd(segment)).as("a frame larger than the writes that bring zeros ahead")
                .isGreaterThan(EventLog.ZEROS_AHEAD_MAX_WRITE);
        assertThat(Files.size(segment)).isLessThan(frameEnd(segment) + blockBytes());
        assertThat(ids()).containsExactly(many);
    }

    @Test
    void zerosAheadStopAtTheSegmentsSize() throws Exception {
        long segmentBytes = 64 << 10;
        try (EventLog log = open(segmentBytes)) {
            for (int i = 1; i <= 40; i++) {
                append(log, i, "e" + i);
            }
        }
        List<Path> segments = EventLog.segments(dir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSizeGreaterThan(1);
        for (Path segment : segments) {
            assertThat(Files.size(segment)).as("%s", segment.getFileName()).isLessThanOrEqualTo(segmentBytes);
        }
        assertThat(ids()).hasSize(40).startsWith("e1", "e2").endsWith("e39", "e40");
    }

    /** The unit of the log's writes on this file system (as {@link EventLog} picks it). */
    long blockBytes() throws Exception {
        return Math.max(4096, Files.getFileStore(dir).getBlockSize());
    }

    @Test
    void aFrameWhoseBytesChangedIsDroppedWithEverythingAfterIt() throws Exception {
        long firstFrameEnd;
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            append(log, 1, "a");
            firstFrameEnd = frameEnd(onlySegment());
            append(log, 2, "b", "c");
        }
        try (RandomAccessFile f = new RandomAccessFile(onlySegment().toFile(), "rw")) {
            f.seek(firstFrameEnd + EventFrameCodec.FRAME_HEADER_BYTES + 30);
            int b = f.read();
            f.seek(firstFrameEnd + EventFrameCodec.FRAME_HEADER_BYTES + 30);
            f.write(b ^ 0x01);
        }
        assertThat(ids()).containsExactly("a");
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            assertThat(log.lastSeq()).isEqualTo(1);
        }
    }

    @Test
    void aSegmentCreatedAsTheProcessDiedIsTakenAsEmpty() throws Exception {
        try (EventLog log = open(4096)) {
            append(log, 1, "a");
            append(log, 2, "b"); // 4 KiB segments: each of these frames fills one
            append(log, 3, "c");
        }
        List<Path> segments = EventLog.segments(dir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSize(3);
        // The next segment's file exists, but not yet its header.
        Files.write(dir.resolve(EventLog.DIRECTORY).resolve(EventLog.name(4)), new byte[5]);
        assertThat(ids()).containsExactly("a", "b", "c");
        try (EventLog log = open(4096)) {
            assertThat(log.lastSeq()).as("the number goes on from the segment before").isEqualTo(3);
            append(log, 4, "d");
        }
        assertThat(ids()).containsExactly("a", "b", "c", "d");
    }

    @Test
    void everyFrameAfterTheFirstBeginsOnASectorBoundarySoNoSectorHoldsTwoFrames() throws Exception {
        try (EventLog log = open(EventLog.DEFAULT_SEGMENT_BYTES)) {
            for (int i = 1; i <= 20; i++) {
                append(log, i, "e" + i);
            }
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(onlySegment()));
        int at = EventLog.SEGMENT_HEADER_BYTES;
        int frames = 0;
        while (at + EventFrameCodec.FRAME_HEADER_BYTES <= b.limit() && isFrame(b.getInt(at))) {
            assertThat(b.getInt(at)).as("frame %d's kind", frames).isEqualTo(magicOf(packing()));
            if (frames > 0) {
                assertThat(at % EventLog.FRAME_ALIGNMENT).as("frame %d's offset", frames).isZero();
            }
            int end = at + EventFrameCodec.FRAME_HEADER_BYTES + b.getInt(at + 4);
            at = (int) EventLog.aligned(end);
            for (int i = end; i < Math.min(at, b.limit()); i++) {
                assertThat(b.get(i)).as("padding after frame %d", frames).isZero();
            }
            frames++;
        }
        assertThat(frames).isEqualTo(20);
        assertThat(ids()).hasSize(20);
    }

    @Test
    void aReaderSkipsSegmentsBeforeTheNumberItAsksFor() throws Exception {
        try (EventLog log = open(4096)) {
            for (int i = 1; i <= 6; i++) {
                append(log, i, "e" + i);
            }
        }
        List<Long> seqs = new ArrayList<>();
        assertThat(EventLogRecovery.scan(dir, 4, (seq, e) -> seqs.add(seq))).isEqualTo(6);
        assertThat(seqs).containsExactly(5L, 6L);
    }

    @Test
    void aFileThatIsNotASegmentOrFromANewerVersionIsRefused() throws Exception {
        Path segments = dir.resolve(EventLog.DIRECTORY);
        Files.createDirectories(segments);
        Files.writeString(segments.resolve(EventLog.name(1)), "this is not an event segment at all");
        assertThatThrownBy(() -> open(4096)).hasMessageContaining("not an xdm-edge event segment");

        byte[] header = new byte[EventLog.SEGMENT_HEADER_BYTES];
        ByteBuffer.wrap(header).putLong(0x58444d2d45564c31L).putInt(2);
        Files.write(segments.resolve(EventLog.name(1)), header);
        assertThatThrownBy(() -> open(4096)).hasMessageContaining("newer");
    }

    static boolean isFrame(int magic) {
        return magic == PLAIN || magic == ZSTD || magic == LZ4;
    }

    /** Where the frames of a segment end (each frame: magic, payload length, CRC, payload; the next on a sector boundary). */
    static long frameEnd(Path segment) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment));
        int at = EventLog.SEGMENT_HEADER_BYTES;
        while (at + EventFrameCodec.FRAME_HEADER_BYTES <= b.limit() && isFrame(b.getInt(at))) {
            at = (int) EventLog.aligned(at + EventFrameCodec.FRAME_HEADER_BYTES + b.getInt(at + 4));
        }
        return at;
    }

    /**
     * One frame of events whose JSON carries a 5,000-character {@link #pad}: a frame of one still
     * fills a 4 KiB segment (no second fits) however it is packed.
     */
    static void append(EventLog log, long firstSeq, String... ids) throws Exception {
        log.begin();
        long seq = firstSeq;
        for (String id : ids) {
            log.add(seq++, new StoredEvent("req", "ds", "events", 1L, id, null, null,
                    ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + pad(id, 5000) + "\"}}").getBytes(StandardCharsets.UTF_8)));
        }
        log.commit(seq - 1);
    }

    /**
     * {@code chars} characters, the same for the same seed: 55% random hex digits (which zstd halves
     * and LZ4 cannot shrink), then random picks of 64 eight-digit words (which both shrink). Packed,
     * 5,000 of them leave ~3.9 KB with LZ4 and ~2.2-2.4 KB with zstd.
     */
    static String pad(String seed, int chars) {
        Random random = new Random(seed.hashCode());
        StringBuilder pad = new StringBuilder(chars + 16);
        while (pad.length() < chars * 11 / 20) {
            pad.append(Long.toHexString(random.nextLong()));
        }
        pad.setLength(chars * 11 / 20);
        String[] words = new String[64];
        for (int i = 0; i < words.length; i++) {
            words[i] = Long.toHexString(random.nextLong() | Long.MIN_VALUE).substring(0, 8);
        }
        while (pad.length() < chars) {
            pad.append(words[random.nextInt(words.length)]);
        }
        return pad.substring(0, chars);
    }

    private List<String> ids() throws Exception {
        List<String> ids = new ArrayList<>();
        EventLogRecovery.scan(dir, 0, (seq, e) -> ids.add(e.eventId()));
        return ids;
    }

    private Path onlySegment() throws Exception {
        List<Path> segments = EventLog.segments(dir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSize(1);
        return segments.get(0);
    }
}
