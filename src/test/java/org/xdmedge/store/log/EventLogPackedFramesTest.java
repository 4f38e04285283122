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
import java.util.UUID;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.StoredEvent;

/**
 * Frames packed with LZ4 ({@code storage.compression: lz4}, the default) beside plain ones; in
 * {@link EventLogZstdPackedFramesTest} with zstd.
 */
class EventLogPackedFramesTest {
    @TempDir
    Path dir;

    FramePacking packing() {
        return FramePacking.LZ4;
    }

    private int packed() {
        return EventLogTest.magicOf(packing());
    }

    @Test
    void aGroupOfLikeEventsIsWrittenPackedManyTimesSmallerAndReadsBackFieldForField() throws Exception {
        List<StoredEvent> group = pageViews(45);
        try (EventLog log = EventLog.open(dir.resolve("packed"), EventLog.DEFAULT_SEGMENT_BYTES, packing())) {
            write(log, 1, group);
        }
        try (EventLog log = EventLog.open(dir.resolve("plain"), EventLog.DEFAULT_SEGMENT_BYTES, FramePacking.NONE)) {
            write(log, 1, group);
        }
        assertThat(frameKinds(dir.resolve("packed"))).containsExactly(packed());
        assertThat(frameKinds(dir.resolve("plain"))).containsExactly(EventLogTest.PLAIN);
        long packed = EventLogTest.frameEnd(onlySegment(dir.resolve("packed")));
        long plain = EventLogTest.frameEnd(onlySegment(dir.resolve("plain")));
        assertThat(packed * 4).as("packed %d bytes against plain %d", packed, plain).isLessThan(plain);

        List<StoredEvent> read = new ArrayList<>();
        assertThat(EventLogRecovery.scan(dir.resolve("packed"), 0, (seq, e) -> read.add(e))).isEqualTo(45);
        assertThat(read).hasSize(45);
        for (int i = 0; i < group.size(); i++) {
            StoredEvent want = group.get(i);
            StoredEvent got = read.get(i);
            assertThat(got.eventId()).isEqualTo(want.eventId());
            assertThat(got.requestId()).isEqualTo(want.requestId());
            assertThat(got.datastreamId()).isEqualTo(want.datastreamId());
            assertThat(got.dataset()).isEqualTo(want.dataset());
            assertThat(got.receivedAtMillis()).isEqualTo(want.receivedAtMillis());
            assertThat(got.primaryNamespace()).isEqualTo(want.primaryNamespace());
            assertThat(got.primaryId()).isEqualTo(want.primaryId());
            assertThat(got.eventJson()).isEqualTo(want.eventJson());
        }
        assertThat(EventLogRecovery.firstSeqOf(onlySegment(dir.resolve("packed")))).isEqualTo(1);
    }

    @Test
    void aGroupThatWouldNotShrinkIsWrittenPlain() throws Exception {
        byte[] noise = new byte[6000];
        new Random(7).nextBytes(noise);
        try (EventLog log = EventLog.open(dir, EventLog.DEFAULT_SEGMENT_BYTES, packing())) {
            write(log, 1, List.of(new StoredEvent("req", "ds", "events", 1L, "noise", null, null, noise)));
        }
        assertThat(frameKinds(dir)).containsExactly(EventLogTest.PLAIN);
        List<byte[]> read = new ArrayList<>();
        EventLogRecovery.scan(dir, 0, (seq, e) -> read.add(e.eventJson()));
        assertThat(read).containsExactly(noise);
    }

    @Test
    void plainAndPackedFramesFollowEachOtherInOneSegmentWhenCompressionIsTurnedOnAndOff() throws Exception {
        List<StoredEvent> events = pageViews(12);
        try (EventLog log = EventLog.open(dir, EventLog.DEFAULT_SEGMENT_BYTES, FramePacking.NONE)) {
            write(log, 1, events.subList(0, 3));
        }
        try (EventLog log = EventLog.open(dir, EventLog.DEFAULT_SEGMENT_BYTES, packing())) {
            assertThat(log.lastSeq()).isEqualTo(3);
            write(log, 4, events.subList(3, 6));
            write(log, 7, events.subList(6, 9));
        }
        try (EventLog log = EventLog.open(dir, EventLog.DEFAULT_SEGMENT_BYTES, FramePacking.NONE)) {
            assertThat(log.lastSeq()).isEqualTo(9);
            write(log, 10, events.subList(9, 12));
        }
        assertThat(frameKinds(dir)).containsExactly(EventLogTest.PLAIN, packed(), packed(),
                EventLogTest.PLAIN);
        List<String> ids = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        EventLogRecovery.scan(dir, 0, (seq, e) -> {
            seqs.add(seq);
            ids.add(e.eventId());
        });
        assertThat(ids).containsExactlyElementsOf(events.stream().map(StoredEvent::eventId).toList());
        assertThat(seqs).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
        List<Long> after = new ArrayList<>();
        EventLogRecovery.scanIds(dir, 5, (seq, datastream, eventId) -> after.add(seq));
        assertThat(after).containsExactly(6L, 7L, 8L, 9L, 10L, 11L, 12L);
    }

    @Test
    void aPackedFrameWithARightCrcThatDoesNotUnpackIsAnErrorNotAnEndToCutOff() throws Exception {
        try (EventLog log = EventLog.open(dir, EventLog.DEFAULT_SEGMENT_BYTES, packing())) {
            write(log, 1, pageViews(3));
            write(log, 4, pageViews(3).stream().map(e -> renamed(e, "later-" + e.eventId())).toList());
        }
        Path segment = onlySegment(dir);
        long sizeBefore = Files.size(segment);
        // The first frame claims one byte more of events than its compressed bytes hold, under a right CRC.
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            int at = EventLog.SEGMENT_HEADER_BYTES;
            f.seek(at + 4);
            int length = f.readInt();
            byte[] payload = new byte[length];
            f.seek(at + EventFrameCodec.FRAME_HEADER_BYTES);
            f.readFully(payload);
            ByteBuffer.wrap(payload).putInt(12, ByteBuffer.wrap(payload).getInt(12) + 1);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            f.seek(at + 8);
            f.writeInt((int) crc.getValue());
            f.seek(at + EventFrameCodec.FRAME_HEADER_BYTES);
            f.write(payload);
        }
        assertThatThrownBy(() -> EventLogRecovery.scan(dir, 0, (seq, e) -> { }))
                .hasMessageContaining(segment.toString()).hasMessageContaining("decompressed to");
        assertThatThrownBy(() -> EventLog.open(dir, EventLog.DEFAULT_SEGMENT_BYTES, packing()))
                .hasMessageContaining("decompressed to");
        assertThat(Files.size(segment)).as("nothing cut off").isEqualTo(sizeBefore);
    }

    /** Page views as one site's visitors send them: the same keys, most values alike, ids and times apart. */
    static List<StoredEvent> pageViews(int n) {
        Random random = new Random(n);
        String[] pages = {"collections/summer/products/linen-shirt-blue?variant=4412", "cart", "checkout/shipping",
                "search?q=socks", "collections/winter/products/wool-hat-grey", "account/orders/991"};
        List<StoredEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = new UUID(random.nextLong(), random.nextLong()).toString();
            String fpid = new UUID(random.nextLong(), random.nextLong()).toString();
            String json = "{\"xdm\":{\"_id\":\"" + id + "\",\"timestamp\":\"2026-12-03T18:" + (10 + random.nextInt(50))
                    + ":00.000Z\",\"eventType\":\"web.webpagedetails.pageViews\",\"identityMap\":{\"FPID\":[{\"id\":\""
                    + fpid + "\",\"authenticatedState\":\"ambiguous\",\"primary\":true}]},\"web\":{\"webPageDetails\":"
                    + "{\"URL\":\"https://shop.example.test/" + pages[random.nextInt(pages.length)] + "\",\"pageViews\":"
                    + "{\"value\":1}},\"webReferrer\":{\"URL\":\"https://www.example.test/search?q=" + random.nextInt(10_000)
                    + "\"}},\"device\":{\"screenHeight\":" + (600 + random.nextInt(900)) + ",\"screenWidth\":"
                    + (320 + random.nextInt(2000)) + ",\"screenOrientation\":\"landscape\"},\"environment\":{\"type\":"
                    + "\"browser\",\"browserDetails\":{\"viewportWidth\":" + (300 + random.nextInt(1600))
                    + ",\"viewportHeight\":" + (500 + random.nextInt(800)) + "}},\"placeContext\":{\"localTime\":"
                    + "\"2026-12-03T19:10:00.000+01:00\",\"localTimezoneOffset\":-60}}}";
            events.add(new StoredEvent("req-" + i, "ds-1", "events", 1_764_785_000_000L + i, id, "FPID", fpid,
                    json.getBytes(StandardCharsets.UTF_8)));
        }
        return events;
    }

    private static StoredEvent renamed(StoredEvent e, String id) {
        return new StoredEvent(e.requestId(), e.datastreamId(), e.dataset(), e.receivedAtMillis(), id,
                e.primaryNamespace(), e.primaryId(), e.eventJson());
    }

    private static void write(EventLog log, long firstSeq, List<StoredEvent> events) throws Exception {
        log.begin();
        long seq = firstSeq;
        for (StoredEvent e : events) {
            log.add(seq++, e);
        }
        log.commit(seq - 1);
    }

    private static List<Integer> frameKinds(Path dataDir) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(onlySegment(dataDir)));
        List<Integer> kinds = new ArrayList<>();
        int at = EventLog.SEGMENT_HEADER_BYTES;
        while (at + EventFrameCodec.FRAME_HEADER_BYTES <= b.limit() && EventLogTest.isFrame(b.getInt(at))) {
            kinds.add(b.getInt(at));
            at = (int) EventLog.aligned(at + EventFrameCodec.FRAME_HEADER_BYTES + b.getInt(at + 4));
        }
        return kinds;
    }

    private static Path onlySegment(Path dataDir) throws Exception {
        List<Path> segments = EventLog.segments(dataDir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSize(1);
        return segments.get(0);
    }
}
