package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.store.ids.EventIdIndex;

/** Retention of the embedded store: whole old segments deleted, never what a restart or the id index needs. */
class SegmentRetentionTest {
    private static final long SEGMENT_BYTES = 64 << 10;

    /** Small segments, and the id index checkpointing every {@code idCheckpointMillis}. */
    private static EventLogStore.Options options(long idCheckpointMillis) {
        return EventLogStore.Options.DEFAULTS.queueCapacity(100).maxRequestsPerCommit(8).segmentBytes(SEGMENT_BYTES)
                .idCheckpointMillis(idCheckpointMillis);
    }

    @TempDir
    Path dir;

    @Test
    void theOldestSegmentsAreDeletedWhileTheEventsTakeMoreThanTheLimit() throws Exception {
        long limit = 6 * SEGMENT_BYTES;
        List<String> written = new ArrayList<>();
        try (EventLogStore store = EventLogStore.open(dir, options(50).retention(limit, null).retentionMillis(20))) {
            write(store, written, 0, 3000); // ~1 KB each, packed: ~50 segments
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (eventBytes() > limit && System.nanoTime() < deadline) {
                Thread.sleep(20); // the id index checkpoints every 50 ms, retention looks every 20
            }
            assertThat(eventBytes()).isLessThanOrEqualTo(limit);
            assertThat(store.segmentsDeleted()).isGreaterThan(30);
            assertThat(store.segmentBytesDeleted()).isGreaterThan(30 * (SEGMENT_BYTES / 2));
            // What is left is the newest events, in order, with nothing missing between them.
            List<String> kept = storedIds();
            assertThat(kept).isNotEmpty().hasSizeLessThan(written.size());
            assertThat(kept).containsExactlyElementsOf(written.subList(written.size() - kept.size(), written.size()));
            // A retried event that is still kept is still a duplicate; writing goes on.
            assertThat(store.write(List.of(event(kept.get(0)))).toCompletableFuture().get(30, TimeUnit.SECONDS))
                    .isEqualTo(new WriteResult(0, 1));
            write(store, written, 3000, 3010);
        }
        // Reopened, sequence numbers go on from the kept log (export stays in commit order).
        try (EventLogStore store = EventLogStore.open(dir, options(50))) {
            write(store, written, 3010, 3020);
        }
        List<String> kept = storedIds();
        assertThat(kept).containsExactlyElementsOf(written.subList(written.size() - kept.size(), written.size()));
        assertThat(kept).endsWith("e-3019");
    }

    @Test
    void oldSegmentsGoButNeverTheNewestTwoNorOnesTheIndexCheckpointDoesNotCover() throws Exception {
        List<String> written = new ArrayList<>();
        try (EventLogStore store = EventLogStore.open(dir, options(60_000))) {
            write(store, written, 0, 1000);
        }
        List<Path> segments = EventLog.segments(dir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSizeGreaterThan(10);
        long now = System.currentTimeMillis();
        for (Path segment : segments) {
            Files.setLastModifiedTime(segment, FileTime.fromMillis(now - Duration.ofDays(2).toMillis()));
        }
        Files.setLastModifiedTime(segments.get(5), FileTime.fromMillis(now)); // new again: it and later ones stay
        SegmentRetention.Limits day = new SegmentRetention.Limits(0, Duration.ofDays(1));

        assertThat(SegmentRetention.apply(dir, day, 0, now).segments()).as("nothing covered by a checkpoint").isZero();
        long secondFirst = EventLogRecovery.firstSeqOf(segments.get(1));
        assertThat(SegmentRetention.apply(dir, day, secondFirst - 2, now).segments())
                .as("the first segment's last event not covered").isZero();
        assertThat(SegmentRetention.apply(dir, day, secondFirst - 1, now).segments()).as("covered to its last event").isEqualTo(1);
        long covered = EventIdIndex.coveredOnDisk(dir);
        assertThat(covered).isEqualTo(1000); // the clean close's checkpoint
        SegmentRetention.Pass pass = SegmentRetention.apply(dir, day, covered, now);
        assertThat(pass.segments()).isEqualTo(4);
        assertThat(pass.stoppedShort()).isNull();
        assertThat(EventLog.segments(dir.resolve(EventLog.DIRECTORY))).containsExactlyElementsOf(segments.subList(5, segments.size()));
        assertThat(pass.retainedFromSeq()).isEqualTo(EventLogRecovery.firstSeqOf(segments.get(5)));

        Files.setLastModifiedTime(segments.get(5), FileTime.fromMillis(now - Duration.ofDays(2).toMillis()));
        SegmentRetention.apply(dir, day, covered, now);
        assertThat(EventLog.segments(dir.resolve(EventLog.DIRECTORY))).as("the newest two always stay")
                .containsExactlyElementsOf(segments.subList(segments.size() - 2, segments.size()));
        assertThat(SegmentRetention.apply(dir, SegmentRetention.Limits.NONE, covered, now).segments()).isZero();
        List<String> kept = storedIds();
        assertThat(kept).isNotEmpty().containsExactlyElementsOf(written.subList(written.size() - kept.size(), written.size()));
    }

    private static void write(EventLogStore store, List<String> written, int from, int to) throws Exception {
        ArrayDeque<CompletableFuture<WriteResult>> answers = new ArrayDeque<>();
        for (int i = from; i < to; i++) {
            String id = "e-" + i;
            written.add(id);
            answers.add(store.write(List.of(event(id))).toCompletableFuture());
            if (answers.size() == 50) { // within the queue's 100
                assertThat(answers.poll().get(30, TimeUnit.SECONDS).stored()).isEqualTo(1);
            }
        }
        for (var answer : answers) {
            assertThat(answer.get(30, TimeUnit.SECONDS).stored()).isEqualTo(1);
        }
    }

    private static StoredEvent event(String id) {
        return new StoredEvent("req", "ds", "events", System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + EventLogTest.pad(id, 2000) + "\"}}").getBytes(StandardCharsets.UTF_8));
    }

    private long eventBytes() throws Exception {
        long total = 0;
        for (Path segment : EventLog.segments(dir.resolve(EventLog.DIRECTORY))) {
            try {
                total += Files.size(segment);
            } catch (NoSuchFileException deletedSinceListed) {
                // retention runs on its own thread and may delete a segment between the listing and here
            }
        }
        return total;
    }

    private List<String> storedIds() throws Exception {
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, null, e -> ids.add(e.eventId()));
        return ids;
    }
}
