package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;

/** A tail of the log beside its writer: every event once, in order, across segments and stops. */
class EventReaderTailTest {
    @TempDir
    Path dir;

    @Test
    void aTailStoppedEveryFewEventsSeesEachEventOnceInOrderWhileTheWriterRolls() throws Exception {
        int total = 1500;
        List<Long> seen = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS.queueCapacity(100)
                .maxRequestsPerCommit(8).segmentBytes(64 << 10))) {
            CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < total; i++) {
                    try {
                        WriteResult r = store.write(List.of(event("e-" + i))).toCompletableFuture().get(30, TimeUnit.SECONDS);
                        assertThat(r.stored()).isEqualTo(1);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            EventReader.Tail tail = new EventReader.Tail(dir);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.size() < total && System.nanoTime() < deadline) {
                long after = seen.isEmpty() ? 0 : seen.get(seen.size() - 1);
                int[] taken = {0};
                tail.next(after, (seq, e) -> {
                    seen.add(seq);
                    ids.add(e.eventId());
                    return ++taken[0] < 7; // stops inside frames and segments
                });
            }
            writing.get(30, TimeUnit.SECONDS);
        }
        assertThat(seen).hasSize(total);
        for (int i = 0; i < total; i++) {
            assertThat(seen.get(i)).isEqualTo(i + 1L);
            assertThat(ids.get(i)).isEqualTo("e-" + i);
        }
        assertThat(EventLog.segments(dir.resolve(EventLog.DIRECTORY))).hasSizeGreaterThan(5);
    }

    @Test
    void aTailPartwayThroughASegmentThatIsRewrittenSkipsNothingButTheDeleted() throws Exception {
        int total = 400;
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS
                .maxRequestsPerCommit(8).segmentBytes(64 << 10))) {
            for (int i = 0; i < total; i++) {
                store.write(List.of(event("e-" + i))).toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
        EventReader.Tail tail = new EventReader.Tail(dir);
        List<Long> seen = new ArrayList<>();
        int[] taken = {0};
        tail.next(0, (seq, e) -> {
            seen.add(seq);
            return ++taken[0] < 37; // parked inside the first segment's frames
        });
        long[] deleted = {2, 3, 40, 41, 42, 43, 44, 45, 120};
        DeletedEvents.write(dir, "job", deleted);
        SegmentRewrite.apply(dir, DeletedEvents.load(dir), FramePacking.LZ4, true);

        tail.next(seen.get(seen.size() - 1), (seq, e) -> {
            seen.add(seq);
            return true;
        });
        List<Long> expected = new ArrayList<>();
        for (long seq = 38; seq <= total; seq++) {
            if (java.util.Arrays.binarySearch(deleted, seq) < 0) {
                expected.add(seq);
            }
        }
        assertThat(seen.subList(37, seen.size())).as("after the rewrite").containsExactlyElementsOf(expected);
    }

    private static StoredEvent event(String id) {
        return new StoredEvent("req", "ds", "events", System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + EventLogTest.pad(id, 300) + "\"}}").getBytes(StandardCharsets.UTF_8));
    }
}
