package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.StoredEvent;

/** Rewriting segments without deleted events keeps the log's order, its numbers and what retention reads. */
class SegmentRewriteTest {
    private static final long SEGMENT_BYTES = 64 << 10;

    @TempDir
    Path dir;

    private static EventLogStore.Options options() {
        return EventLogStore.Options.DEFAULTS.queueCapacity(100).maxRequestsPerCommit(8).segmentBytes(SEGMENT_BYTES);
    }

    @Test
    void deletedEventsLeaveTheSegmentsAndEverythingElseStays() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, options())) {
            for (int i = 1; i <= 600; i++) {
                assertThat(store.write(List.of(event("e-" + i))).toCompletableFuture().get(30, TimeUnit.SECONDS).stored())
                        .isEqualTo(1);
            }
        }
        List<Path> segments = EventLog.segments(dir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSizeGreaterThan(4);
        long old = System.currentTimeMillis() - Duration.ofDays(2).toMillis();
        for (Path s : segments) {
            Files.setLastModifiedTime(s, FileTime.fromMillis(old));
        }
        long firstOfSecond = EventLogRecovery.firstSeqOf(segments.get(1));
        // The log's first event, the second segment's first one, a run in the middle, and the last.
        long[] deleted = LongStream.concat(LongStream.of(1, firstOfSecond, 600), LongStream.rangeClosed(300, 320)).toArray();
        DeletedEvents.write(dir, "job", deleted);
        assertThat(ids()).hasSize(600 - deleted.length).doesNotContain("e-1", "e-300", "e-600");

        SegmentRewrite.Result result = SegmentRewrite.apply(dir, DeletedEvents.load(dir), FramePacking.LZ4, true);
        assertThat(result.segments()).isGreaterThanOrEqualTo(3);
        assertThat(result.blankedEvents()).isEqualTo(deleted.length);
        assertThat(SegmentRewrite.apply(dir, DeletedEvents.load(dir), FramePacking.LZ4, true).segments())
                .as("blanked records need no second rewrite").isZero();
        for (Path s : segments) {
            assertThat(Files.getLastModifiedTime(s).toMillis()).as("retention by age reads it").isEqualTo(old);
            assertThat(new String(Files.readAllBytes(s), StandardCharsets.ISO_8859_1)).doesNotContain("\"e-300\"");
        }
        assertThat(EventLogRecovery.firstSeqOf(segments.get(1))).isEqualTo(firstOfSecond);

        // Without the list the bytes alone keep them out; the index is rebuilt from the rewritten log.
        try (Stream<Path> lists = Files.list(dir.resolve(DeletedEvents.DIRECTORY))) {
            for (Path f : lists.toList()) {
                Files.delete(f);
            }
        }
        deleteTree(dir.resolve("ids"));
        Map<String, Long> seqs = new HashMap<>();
        EventReader.forEachSeq(dir, (seq, e) -> seqs.put(e.eventId(), seq));
        assertThat(seqs).hasSize(600 - deleted.length).doesNotContainKeys("e-1", "e-300", "e-600");
        assertThat(seqs.get("e-599")).isEqualTo(599);
        try (EventLogStore store = EventLogStore.open(dir, options())) {
            assertThat(store.write(List.of(event("e-599"))).toCompletableFuture().get(30, TimeUnit.SECONDS).duplicates())
                    .as("kept ids are still claimed").isEqualTo(1);
            assertThat(store.write(List.of(event("e-601"))).toCompletableFuture().get(30, TimeUnit.SECONDS).stored()).isEqualTo(1);
        }
        EventReader.forEachSeq(dir, (seq, e) -> seqs.put(e.eventId(), seq));
        assertThat(seqs.get("e-601")).as("numbers go on after the deleted last event").isEqualTo(601);

        // Retention by age still deletes the old rewritten segments.
        int before = EventLog.segments(dir.resolve(EventLog.DIRECTORY)).size();
        SegmentRetention.Pass pass = SegmentRetention.apply(dir, new SegmentRetention.Limits(0, Duration.ofDays(1)),
                Long.MAX_VALUE, System.currentTimeMillis());
        assertThat(pass.segments()).isEqualTo(before - 2);
    }

    private static void deleteTree(Path root) throws Exception {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    private List<String> ids() throws Exception {
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, null, e -> ids.add(e.eventId()));
        return ids;
    }

    private static StoredEvent event(String id) {
        return new StoredEvent("req", "ds", "events", System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + EventLogTest.pad(id, 400) + "\"}}").getBytes(StandardCharsets.UTF_8));
    }
}
