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

    private static StoredEvent event(String id) {
        return new StoredEvent("req", "ds", "events", System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + EventLogTest.pad(id, 300) + "\"}}").getBytes(StandardCharsets.UTF_8));
    }
}
