package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.store.ids.EventIdIndex;

class EventLogStoreTest {
    private static final EventLogStore.Options SMALL = EventLogStore.Options.DEFAULTS.queueCapacity(100).maxRequestsPerCommit(64);

    @TempDir
    Path dir;

    @Test
    void aFailingRequestRollsBackAloneAndNeverLeavesHalfABatch() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            List<CompletableFuture<WriteResult>> good = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                good.add(store.write(List.of(event("good-" + i, "events"))).toCompletableFuture());
            }
            // The second event violates NOT NULL (no dataset): the first one must not survive either.
            CompletableFuture<WriteResult> bad = store.write(List.of(event("half-1", "events"), event("half-2", null)))
                    .toCompletableFuture();
            for (int i = 20; i < 40; i++) {
                good.add(store.write(List.of(event("good-" + i, "events"))).toCompletableFuture());
            }
            for (var f : good) {
                assertThat(f.get(30, TimeUnit.SECONDS).stored()).isEqualTo(1);
            }
            assertThatThrownBy(() -> bad.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(SinkUnavailableException.class);
        }
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, null, e -> ids.add(e.eventId()));
        assertThat(ids).hasSize(40).noneMatch(id -> id.startsWith("half"));
    }

    @Test
    void aNearlyFullDiskRefusesWritesAndIsNotReadyUntilTwiceTheFloorIsFreeAgain() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(store.write(List.of(event("before", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS).stored())
                    .isEqualTo(1);
            assertThat(store.freeBytes()).as("the real disk, read by the writer").isPositive().isLessThan(Long.MAX_VALUE);
            AtomicLong free = new AtomicLong(DiskSpace.MIN_FREE_BYTES - 1);
            store.freeBytesProbe(free::get);
            awaitReady(store, false);
            assertThat(store.freeBytes()).isEqualTo(DiskSpace.MIN_FREE_BYTES - 1);
            assertThatThrownBy(() -> store.write(List.of(event("refused", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(SinkUnavailableException.class).hasMessageContaining("MiB free");
            // Above the floor but below twice it: still refused, so readiness does not flap at the edge.
            free.set(DiskSpace.MIN_FREE_BYTES + (1 << 20));
            long waitUntil = System.nanoTime() + 2_500_000_000L; // two of the writer's looks
            while (System.nanoTime() < waitUntil) {
                assertThat(store.ready()).isFalse();
                Thread.sleep(50);
            }
            assertThat(store.freeBytes()).isEqualTo(DiskSpace.MIN_FREE_BYTES + (1 << 20));
            free.set(2 * DiskSpace.MIN_FREE_BYTES);
            awaitReady(store, true);
            assertThat(store.write(List.of(event("after", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS).stored())
                    .isEqualTo(1);
        }
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, "events", e -> ids.add(e.eventId()));
        assertThat(ids).containsExactly("before", "after");
    }

    private static void awaitReady(EventLogStore store, boolean ready) throws InterruptedException {
        for (int i = 0; i < 200 && store.ready() != ready; i++) {
            Thread.sleep(50);
        }
        assertThat(store.ready()).isEqualTo(ready);
    }

    @Test
    void duplicatesWithinAndAcrossRequestsAreCounted() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            WriteResult first = store.write(List.of(event("a", "events"), event("a", "events"), event("b", "events")))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(first).isEqualTo(new WriteResult(2, 1));
            WriteResult retry = store.write(List.of(event("a", "events"), event("b", "events")))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(retry).isEqualTo(new WriteResult(0, 2));
            assertThat(store.storedEvents()).isEqualTo(2);
            assertThat(store.duplicateEvents()).isEqualTo(3);
        }
    }

    @Test
    void idsTheEdgeMintedAreStoredWithoutAClaimInTheIdIndexBesideClaimedOnes() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            List<StoredEvent> minted = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                minted.add(minted("minted-" + i));
            }
            assertThat(store.write(minted).toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(5, 0));
            assertThat(store.indexedIds()).as("a minted id is not claimed").isZero();
            assertThat(store.write(List.of(event("client-1", "events"), minted("minted-5"), event("client-2", "events")))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(3, 0));
            assertThat(store.indexedIds()).isEqualTo(2);
            assertThat(store.write(List.of(event("client-1", "events"), event("client-2", "events")))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS))
                    .as("the claimed ids still find their retries").isEqualTo(new WriteResult(0, 2));
            assertThat(store.storedEvents()).isEqualTo(8);
        }
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, "events", e -> ids.add(e.eventId()));
        assertThat(ids).containsExactly("minted-0", "minted-1", "minted-2", "minted-3", "minted-4", "client-1",
                "minted-5", "client-2");
    }

    private static StoredEvent minted(String id) {
        StoredEvent e = event(id, "events");
        return new StoredEvent(e.requestId(), e.datastreamId(), e.dataset(), e.receivedAtMillis(), id,
                e.primaryNamespace(), e.primaryId(), e.eventJson(), true);
    }

    @Test
    void closedStoreRefusesWritesAndReopenKeepsEverything() throws Exception {
        EventLogStore store = EventLogStore.open(dir, SMALL);
        store.write(List.of(event("kept", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS);
        store.close();
        assertThat(store.ready()).isFalse();
        assertThatThrownBy(() -> store.write(List.of(event("late", "events"))).toCompletableFuture().get())
                .hasCauseInstanceOf(SinkUnavailableException.class);
        try (EventLogStore reopened = EventLogStore.open(dir, SMALL)) {
            assertThat(reopened.ready()).isTrue();
            List<String> ids = new ArrayList<>();
            EventReader.forEach(dir, "events", e -> ids.add(e.eventId()));
            assertThat(ids).containsExactly("kept");
        }
    }

    @Test
    void aGracefulCloseRecordsTheIdIndexAsCoveringEveryStoredEvent() throws Exception {
        EventLogStore store = EventLogStore.open(dir, SMALL.idCheckpointMillis(60_000));
        store.write(List.of(event("one", "events"), event("two", "events"), event("three", "events")))
                .toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertThat(EventIdIndex.coveredOnDisk(dir)).as("no checkpoint yet").isZero();
        assertThat(store.close(Duration.ofSeconds(30))).isTrue();
        assertThat(EventIdIndex.coveredOnDisk(dir)).isEqualTo(3);
    }

    @Test
    void aQuietStoreCheckpointsItsIdIndexWithinItsInterval() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL.idCheckpointMillis(100))) {
            store.write(List.of(event("one", "events"), event("two", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            // The checkpoint's file is written before its count: wait for both.
            while ((EventIdIndex.coveredOnDisk(dir) < 2 || store.checkpoints() == 0) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(EventIdIndex.coveredOnDisk(dir)).as("ids of both events recorded as forced").isEqualTo(2);
            assertThat(store.checkpoints()).isPositive();
        }
    }

    @Test
    void eventsOfManyRequestsAndSegmentsReadBackInCommitOrderAndSurviveReopening() throws Exception {
        List<String> written = new ArrayList<>();
        // 64 KiB segments: a few dozen events each (~1 KB packed), so the log rotates many times.
        try (EventLogStore store = EventLogStore.open(dir, SMALL.maxRequestsPerCommit(8).segmentBytes(64 << 10))) {
            List<CompletableFuture<WriteResult>> answers = new ArrayList<>();
            for (int r = 0; r < 100; r++) {
                List<StoredEvent> events = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    String id = "r" + r + "-e" + i;
                    written.add(id);
                    events.add(new StoredEvent("req-" + r, "ds", i % 2 == 0 ? "events" : "other", 1_700_000_000_000L + r, id,
                            "ECID", "écid-" + r, ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + EventLogTest.pad(id, 2000) + "\"}}")
                            .getBytes(StandardCharsets.UTF_8)));
                }
                answers.add(store.write(events).toCompletableFuture());
            }
            for (var f : answers) {
                assertThat(f.get(30, TimeUnit.SECONDS).stored()).isEqualTo(10);
            }
        }
        assertThat(EventLog.segments(dir.resolve(EventLog.DIRECTORY))).hasSizeGreaterThan(10);
        List<StoredEvent> read = new ArrayList<>();
        assertThat(EventReader.forEach(dir, null, read::add)).isEqualTo(1000);
        assertThat(read).extracting(StoredEvent::eventId).containsExactlyElementsOf(written);
        StoredEvent sample = read.get(13);
        assertThat(sample.requestId()).isEqualTo("req-1");
        assertThat(sample.dataset()).isEqualTo("other");
        assertThat(sample.receivedAtMillis()).isEqualTo(1_700_000_000_001L);
        assertThat(sample.primaryId()).isEqualTo("écid-1");
        assertThat(new String(sample.eventJson(), StandardCharsets.UTF_8)).startsWith("{\"xdm\":{\"_id\":\"r1-e3\"");
        assertThat(EventReader.forEach(dir, "events", e -> {})).isEqualTo(500);

        try (EventLogStore store = EventLogStore.open(dir, SMALL.maxRequestsPerCommit(8).segmentBytes(64 << 10))) {
            assertThat(store.write(List.of(event("r5-e5", "events"), event("after", "events")))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(new WriteResult(1, 1));
        }
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, null, e -> ids.add(e.eventId()));
        assertThat(ids).hasSize(1001).endsWith("after");
    }

    static StoredEvent event(String id, String dataset) {
        return new StoredEvent("req", "ds", dataset, System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\"}}").getBytes(StandardCharsets.UTF_8));
    }
}
