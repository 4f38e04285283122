package org.xdmedge.store.ids;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.store.log.EventLog;
import org.xdmedge.store.log.EventLogRecovery;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.store.log.EventReader;

/** Dedup through the event store's id index: exact keys, repair on open. */
class EventIdIndexTest {
    private static final EventLogStore.Options SMALL = EventLogStore.Options.DEFAULTS.queueCapacity(100).maxRequestsPerCommit(64);

    @TempDir
    Path dir;

    @Test
    void uuidsArePackedExactlyAndOtherTextKeepsItsText() {
        long[] out = new long[2];
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4e5f60718293", out)).isZero();
        assertThat(out).containsExactly(0x0189a5c47e1f4b2aL, 0x9c3d4e5f60718293L);
        assertThat(EventIdIndex.packUuid("0189A5C4-7E1F-4B2A-9C3D-4E5F60718293", out)).isEqualTo(1);
        assertThat(out).containsExactly(0x0189a5c47e1f4b2aL, 0x9c3d4e5f60718293L);
        assertThat(EventIdIndex.packUuid("01234567-0123-0123-0123-012345678901", out)).as("no letters").isZero();
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4E5F60718293", out)).as("mixed case").isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("0189a5c47e1f-4b2a-9c3d-4e5f607182934", out)).as("dash misplaced").isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4e5f6071829g", out)).as("not hex").isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("order-42", out)).isEqualTo(-1);
        assertThat(EventIdIndex.packUuid(null, out)).isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4e5f6071829\u0663", out)).as("a digit beyond ASCII").isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4e5f6071829\u00e9", out)).as("a letter beyond ASCII").isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4e5f607182-3", out)).as("a dash for a digit").isEqualTo(-1);
        assertThat(EventIdIndex.packUuid("0189a5c4-7e1f-4b2a-9c3d-4e5f60718293".replace('9', ':'), out)).isEqualTo(-1);
        Random random = new Random(7);
        for (int i = 0; i < 1000; i++) {
            UUID uuid = new UUID(random.nextLong(), random.nextLong());
            String text = uuid.toString();
            assertThat(EventIdIndex.packUuid(text, out)).isZero();
            assertThat(out).containsExactly(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
            String upper = text.toUpperCase(Locale.ROOT);
            assertThat(EventIdIndex.packUuid(upper, out)).isEqualTo(upper.equals(text) ? 0 : 1);
            assertThat(out).containsExactly(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
        }
    }

    @Test
    void anIdIsADuplicateOnlyInItsOwnDatastreamAndInItsOwnSpelling() throws Exception {
        String uuid = "5f1c0a2e-9b7d-4c3e-a1f2-b3c4d5e6f708";
        String mixed = "5f1c0a2e-9B7D-4C3E-A1F2-B3C4D5E6F708";
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, event(uuid, "ds-a"), event(uuid.toUpperCase(), "ds-a"), event(uuid, "ds-b"),
                    event("order-42", "ds-a"), event("order-42", "ds-b"), event(mixed, "ds-a")))
                    .isEqualTo(new WriteResult(6, 0));
            assertThat(write(store, event(uuid, "ds-a"), event(uuid.toUpperCase(), "ds-a"), event(uuid, "ds-b"),
                    event("order-42", "ds-a"), event("order-42", "ds-b"), event(mixed, "ds-a"), event("order-42", "ds-c")))
                    .isEqualTo(new WriteResult(1, 6));
        }
        assertThat(storedIds()).hasSize(7);
    }

    @Test
    void anEventWithoutDatastreamFailsAloneAndLeavesNoClaim() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            var bad = store.write(List.of(event("kept-out", "ds-a"), event("no-datastream", null))).toCompletableFuture();
            assertThatThrownBy(() -> bad.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(SinkUnavailableException.class);
            // The failed request's first event was claimed and rolled back with it: it is new again.
            assertThat(write(store, event("kept-out", "ds-a"))).isEqualTo(new WriteResult(1, 0));
        }
        assertThat(storedIds()).containsExactly("kept-out");
    }

    @Test
    void aLostIndexFileIsRebuiltFromTheEvents() throws Exception {
        List<StoredEvent> first = randomEvents(250);
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, first.toArray(StoredEvent[]::new)).stored()).isEqualTo(250);
        }
        try (var files = Files.list(dir.resolve(EventIdIndex.DIRECTORY))) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        assertEveryIdStoredOnceAfterReopening(first);
    }

    @Test
    void tablesLostBesideTheirCheckpointAreRebuiltFromTheEvents() throws Exception {
        List<StoredEvent> first = randomEvents(250);
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, first.toArray(StoredEvent[]::new)).stored()).isEqualTo(250);
        }
        assertThat(EventIdIndex.coveredOnDisk(dir)).isEqualTo(250);
        for (String table : tableFiles(dir.resolve(EventIdIndex.DIRECTORY))) {
            Files.delete(dir.resolve(EventIdIndex.DIRECTORY).resolve(table)); // the checkpoint stays
        }
        assertEveryIdStoredOnceAfterReopening(first);
    }

    @Test
    void claimsOfEventsTheEventsFileLostAreRemovedOnOpen() throws Exception {
        StoredEvent kept = event(UUID.randomUUID().toString(), "ds-a");
        StoredEvent lost = event(UUID.randomUUID().toString(), "ds-a");
        Path snapshot = dir.resolve("snapshot");
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            write(store, kept);
        }
        copySegments(dir.resolve(EventLog.DIRECTORY), snapshot);
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            write(store, lost);
        }
        // The log goes back to before `lost` was committed; the index file still claims it.
        copySegments(snapshot, dir.resolve(EventLog.DIRECTORY));
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, kept, lost)).isEqualTo(new WriteResult(1, 1));
        }
        assertThat(storedIds()).containsExactly(kept.eventId(), lost.eventId());
    }

    @Test
    void afterACrashNoClaimOutlivesItsEventAndEveryLoggedIdIsClaimedAgain() throws Exception {
        List<StoredEvent> logged = randomEvents(300);
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, logged.toArray(StoredEvent[]::new)).stored()).isEqualTo(300);
        }
        StoredEvent committedButNotLogged = event(UUID.randomUUID().toString(), "ds-a");
        StoredEvent claimedInFlight = event("in-flight", "ds-b");
        // The writer's view at a crash: claims made after the last checkpoint, one of them never
        // committed, and their events not in the log; the process dies without a clean close.
        EventIdIndex index = EventIdIndex.open(dir, 300, 60_000, logged(dir));
        assertThat(index.claim(committedButNotLogged, 301)).isTrue();
        index.commit(301);
        assertThat(index.claim(claimedInFlight, 302)).isTrue();
        index.close(System.nanoTime()); // a deadline already past: no last checkpoint, as in a crash
        assertThat(EventIdIndex.coveredOnDisk(dir)).isEqualTo(300);

        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, committedButNotLogged, claimedInFlight)).isEqualTo(new WriteResult(2, 0));
            assertThat(write(store, logged.toArray(StoredEvent[]::new))).isEqualTo(new WriteResult(0, 300));
        }
        assertThat(storedIds()).hasSize(302).endsWith(committedButNotLogged.eventId(), claimedInFlight.eventId());
    }

    @Test
    void claimsGoIntoABoundedHotTableAndSealedOnesAreMergedSoALookupProbesFew() throws Exception {
        List<StoredEvent> events = randomEvents(200_000);
        Path ids = dir.resolve(EventIdIndex.DIRECTORY);
        Random random = new Random(3);
        long seq = 0;
        // Hot tables of 2^10 to 2^12 slots: one is sealed every 2,048 claims at most, ~100 in all.
        try (EventIdIndex index = EventIdIndex.open(dir, 0, 60_000, logged(dir), 10, 12)) {
            for (StoredEvent e : events) {
                assertThat(index.claim(e, ++seq)).as("event %d", seq).isTrue();
                if (seq % 500 == 0) {
                    index.commit(seq);
                    // Meanwhile the merger swaps tables in: an earlier id is still found.
                    StoredEvent earlier = events.get(random.nextInt((int) seq));
                    assertThat(index.claim(earlier, seq + 1)).as("earlier id, at %d", seq).isFalse();
                }
            }
            index.commit(seq);
            // Until the merger is done: no merge for 10 looks in a row and the replaced tables gone.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long lastMerges = -1;
            for (int quiet = 0; quiet < 10 && System.nanoTime() < deadline; ) {
                index.commit(seq); // a commit after a swap lets the maintainer delete what it replaced
                Thread.sleep(30);
                long merges = index.merges();
                boolean done = index.tables() <= 9 && tableFiles(ids).size() <= index.tables() + 1;
                quiet = merges == lastMerges && done ? quiet + 1 : 0;
                lastMerges = merges;
            }
            assertThat(index.merges()).isPositive();
            // Sealed tables at least double with age: ~log2(200,000 / 2,048) of them, and the hot one.
            assertThat(index.tables()).isBetween(2, 9);
            assertThat(tableFiles(ids)).as("the replaced tables are deleted (the next hot one is made ahead)")
                    .hasSizeBetween(index.tables(), index.tables() + 1);
            assertThat(index.ids()).isEqualTo(200_000);
            long next = seq + 1;
            assertThat(events.stream().filter(e -> index.claim(e, next)).count()).as("ids claimed again").isZero();
            assertThat(index.claim(event("new-after-merges", "ds-a"), ++seq)).isTrue();
            index.commit(seq);
        }
        try (EventIdIndex index = EventIdIndex.open(dir, seq, 60_000, logged(dir), 10, 12)) {
            long last = seq;
            assertThat(events.stream().filter(e -> index.claim(e, last + 1)).count()).as("after reopening").isZero();
            assertThat(index.claim(event("new-after-merges", "ds-a"), last + 1)).isFalse();
            assertThat(index.claim(event("new-after-reopening", "ds-a"), last + 1)).isTrue();
            index.commit(last + 1);
        }
    }

    @Test
    void mergesLeaveOutTheIdsOfEventsRetentionDeleted() throws Exception {
        List<StoredEvent> events = randomEvents(40_000);
        try (EventIdIndex index = EventIdIndex.open(dir, 0, 60_000, logged(dir), 10, 12)) {
            index.retainFrom(20_001); // as if the log kept only the events from 20,001 on
            long seq = claimAll(index, events);
            awaitIdsAtMost(index, seq, 30_000);
            assertThat(index.ids()).as("ids of deleted events merged away").isLessThanOrEqualTo(30_000);
            long next = seq + 1;
            assertThat(events.subList(20_000, 40_000).stream().filter(e -> index.claim(e, next)).count())
                    .as("kept events' ids are all still there").isZero();
            assertThat(events.subList(0, 20_000).stream().filter(e -> index.claim(e, next)).count())
                    .as("deleted events' ids, now new again").isGreaterThan(10_000);
            index.commit(next);
        }
    }

    @Test
    void tablesWhoseEventsAreAllPastRetentionAreDroppedAndMostlyPastOnesRewritten() throws Exception {
        List<StoredEvent> events = randomEvents(30_000);
        try (EventIdIndex index = EventIdIndex.open(dir, 0, 60_000, logged(dir), 10, 12)) {
            long seq = claimAll(index, events);
            awaitQuiet(index, seq); // merged as if nothing were deleted: large, old tables
            assertThat(index.tables()).isGreaterThan(1);
            index.retainFrom(25_001); // retention deleted the events 1..25,000
            awaitIdsAtMost(index, seq, 10_000);
            assertThat(index.ids()).as("the old tables dropped or rewritten").isLessThanOrEqualTo(10_000);
            long next = seq + 1;
            assertThat(events.subList(25_000, 30_000).stream().filter(e -> index.claim(e, next)).count())
                    .as("ids of kept events").isZero();
            assertThat(events.subList(0, 25_000).stream().filter(e -> index.claim(e, next)).count())
                    .as("ids of deleted events, new again").isGreaterThan(20_000);
            index.commit(next);
        }
    }

    @Test
    void claimsGoOnWhileRetentionDropsAndRewritesTablesUnderThem() throws Exception {
        List<StoredEvent> events = randomEvents(80_000);
        try (EventIdIndex index = EventIdIndex.open(dir, 0, 60_000, logged(dir), 10, 12)) {
            long seq = 0;
            for (StoredEvent e : events) {
                assertThat(index.claim(e, ++seq)).as("event %d", seq).isTrue();
                if (seq % 500 == 0) {
                    index.commit(seq);
                }
                if (seq % 5_000 == 0) {
                    index.retainFrom(seq - 10_000); // the log keeps the last 10,000 or so
                }
            }
            index.commit(seq);
            awaitIdsAtMost(index, seq, 30_000);
            assertThat(index.ids()).as("ids of deleted events dropped while claims went on").isLessThanOrEqualTo(30_000);
            long next = seq + 1;
            assertThat(events.subList(70_000, 80_000).stream().filter(e -> index.claim(e, next)).count())
                    .as("ids of the kept events").isZero();
            index.commit(next);
        }
    }

    @Test
    void aDeletedEventsIdClaimsNothingThroughUndoMergesAndReopening() throws Exception {
        List<StoredEvent> events = randomEvents(20_000);
        long[] deleted = new long[2_000]; // every tenth event's
        for (int i = 0; i < deleted.length; i++) {
            deleted[i] = i * 10L + 1;
        }
        long last;
        try (EventIdIndex index = EventIdIndex.open(dir, 0, 60_000, logged(dir), 10, 12)) {
            long seq = claimAll(index, events);
            index.deleted(deleted);
            int mark = index.mark();
            assertThat(index.claim(events.get(0), seq + 1)).as("a deleted event's id, sent again").isTrue();
            index.rollbackTo(mark); // the request failed: the id is as before, claimed by the deleted event
            awaitQuiet(index, seq);
            assertThat(index.ids()).as("merges since leave the deleted events' ids out").isLessThanOrEqualTo(20_000);
            long next = seq;
            for (int i = 0; i < events.size(); i++) {
                boolean wasDeleted = i % 10 == 0;
                assertThat(index.claim(events.get(i), next + 1)).as("event %d sent again", i).isEqualTo(wasDeleted);
                if (wasDeleted) {
                    next++;
                }
            }
            index.commit(next);
            long claimed = next;
            assertThat(events.stream().filter(e -> index.claim(e, claimed + 1)).count()).as("all stored now").isZero();
            last = next;
        }
        try (EventIdIndex index = EventIdIndex.open(dir, last, 60_000, logged(dir), 10, 12, deleted)) {
            assertThat(events.stream().filter(e -> index.claim(e, last + 1)).count()).as("after reopening").isZero();
            awaitQuiet(index, last);
            assertThat(events.stream().filter(e -> index.claim(e, last + 1)).count()).as("after merging").isZero();
            // Deleted entries a merge has not reached yet are still counted: 2,000 at most.
            assertThat(index.ids()).isBetween(20_000L, 22_000L);
        }
    }

    /** Claims every event (all new), committing every 500: the last sequence number. */
    private static long claimAll(EventIdIndex index, List<StoredEvent> events) {
        long seq = 0;
        for (StoredEvent e : events) {
            assertThat(index.claim(e, ++seq)).isTrue();
            if (seq % 500 == 0) {
                index.commit(seq);
            }
        }
        index.commit(seq);
        return seq;
    }

    /** Commits (so replaced tables go) until the index holds at most {@code ids}, bounded in time. */
    private static void awaitIdsAtMost(EventIdIndex index, long seq, long ids) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (index.ids() > ids && System.nanoTime() < deadline) {
            index.commit(seq);
            Thread.sleep(20);
        }
    }

    /** Commits until the merger has nothing left to do (no merge for 10 looks in a row). */
    private static void awaitQuiet(EventIdIndex index, long seq) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long lastMerges = -1;
        for (int quiet = 0; quiet < 10 && System.nanoTime() < deadline; ) {
            index.commit(seq);
            Thread.sleep(30);
            long merges = index.merges();
            quiet = merges == lastMerges ? quiet + 1 : 0;
            lastMerges = merges;
        }
    }

    @Test
    void leftoversOfAStopOrACrashAreHarmless() throws Exception {
        List<StoredEvent> events = claimedInAFirstTable(100);
        Path ids = dir.resolve(EventIdIndex.DIRECTORY);
        Path first = ids.resolve("000001" + IdTable.SUFFIX);
        long seed;
        try (IdTable table = IdTable.open(first)) {
            seed = table.seed();
            // A merge's new table beside its source (a crash came before the source was deleted).
            IdTableMerge.merge(IdTableMerge.Spec.of(ids.resolve("000004" + IdTable.SUFFIX), 12, seed, 1, List.of(table)));
        }
        // A next table made ahead and never used, and the one the writer made itself and took
        // instead (numbered before the merge's, which came after).
        IdTable.create(ids.resolve("000002" + IdTable.SUFFIX), 10, seed, 2, () -> false, WritePace.UNPACED);
        IdTable.create(ids.resolve("000003" + IdTable.SUFFIX), 10, seed, 3, () -> false, WritePace.UNPACED);
        try (EventIdIndex index = EventIdIndex.open(dir, events.size(), 60_000, logged(dir), 10, 12)) {
            assertThat(tableFiles(ids)).as("the merge's source and the unused empty one are deleted")
                    .containsExactly("000003" + IdTable.SUFFIX, "000004" + IdTable.SUFFIX);
            assertThat(index.ids()).as("each id counted once").isEqualTo(events.size());
            assertThat(events.stream().filter(e -> index.claim(e, 101)).count()).isZero();
            assertThat(index.claim(event("new", "ds-a"), 101)).isTrue();
            index.commit(101);
            assertThat(index.ids()).isEqualTo(events.size() + 1);
        }
        try (IdTable table = IdTable.open(ids.resolve("000003" + IdTable.SUFFIX))) {
            assertThat(table.count()).as("the newest that took claims took the new one").isEqualTo(1);
        }
    }

    @Test
    void aMergeOfMergesReplacesEveryTableItWasMadeFromAndNoOther() throws Exception {
        List<StoredEvent> events = claimedInAFirstTable(100);
        Path ids = dir.resolve(EventIdIndex.DIRECTORY);
        // 000001 (order 1) and copies standing for sealed tables of orders 2 and 3, merged twice
        // (000005: 1 and 2; 000006: 000005 and 3), all left by crashes; 000004 took claims after them.
        Path first = ids.resolve("000001" + IdTable.SUFFIX);
        for (int order = 2; order <= 4; order++) {
            Path copy = ids.resolve("00000" + order + IdTable.SUFFIX);
            Files.copy(first, copy);
            try (var ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(8).putLong(0, order), 32); // the header's order
            }
        }
        try (IdTable one = IdTable.open(first);
             IdTable two = IdTable.open(ids.resolve("000002" + IdTable.SUFFIX));
             IdTable three = IdTable.open(ids.resolve("000003" + IdTable.SUFFIX))) {
            IdTableMerge.merge(IdTableMerge.Spec.of(ids.resolve("000005" + IdTable.SUFFIX), 12, one.seed(), 2, List.of(two, one)));
            try (IdTable five = IdTable.open(ids.resolve("000005" + IdTable.SUFFIX))) {
                assertThat(five.replaced()).containsExactly(1, 2);
                IdTableMerge.merge(IdTableMerge.Spec.of(ids.resolve("000006" + IdTable.SUFFIX), 12, one.seed(), 3,
                        List.of(three, five)));
            }
        }
        try (IdTable six = IdTable.open(ids.resolve("000006" + IdTable.SUFFIX))) {
            assertThat(six.replaced()).as("with the first merge's sources, still on disk").containsExactly(1, 2, 3, 5);
            assertThat(six.order()).isEqualTo(3);
        }
        try (EventIdIndex index = EventIdIndex.open(dir, events.size(), 60_000, logged(dir), 10, 12)) {
            assertThat(tableFiles(ids)).as("the table of order 4 is newer than the merges' sources")
                    .containsExactly("000004" + IdTable.SUFFIX, "000006" + IdTable.SUFFIX);
            assertThat(events.stream().filter(e -> index.claim(e, 101)).count()).isZero();
        }
    }

    @Test
    void aTableMadeAheadThatTookClaimsLateStaysBesideAMergeOfItsNeighbours() throws Exception {
        List<StoredEvent> events = claimedInAFirstTable(100);
        Path ids = dir.resolve(EventIdIndex.DIRECTORY);
        // The table holding the ids becomes 000002 (order 2), standing for a next table made ahead
        // that took claims only after the writer made 000003 itself; 000001 and 000003 (empty
        // here) were merged into 000004 without it, and a crash left all four.
        Path victim = ids.resolve("000002" + IdTable.SUFFIX);
        Files.move(ids.resolve("000001" + IdTable.SUFFIX), victim);
        try (var ch = FileChannel.open(victim, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).putLong(0, 2), 32); // the header's order
        }
        long seed;
        try (IdTable table = IdTable.open(victim)) {
            seed = table.seed();
        }
        IdTable.create(ids.resolve("000001" + IdTable.SUFFIX), 10, seed, 1, () -> false, WritePace.UNPACED);
        IdTable.create(ids.resolve("000003" + IdTable.SUFFIX), 10, seed, 3, () -> false, WritePace.UNPACED);
        try (IdTable one = IdTable.open(ids.resolve("000001" + IdTable.SUFFIX));
             IdTable three = IdTable.open(ids.resolve("000003" + IdTable.SUFFIX))) {
            IdTableMerge.merge(IdTableMerge.Spec.of(ids.resolve("000004" + IdTable.SUFFIX), 12, seed, 3, List.of(three, one)));
        }
        try (EventIdIndex index = EventIdIndex.open(dir, events.size(), 60_000, logged(dir), 10, 12)) {
            assertThat(tableFiles(ids)).as("the merge's sources go; the table of an order between theirs stays")
                    .containsExactly("000002" + IdTable.SUFFIX, "000004" + IdTable.SUFFIX);
            assertThat(events.stream().filter(e -> index.claim(e, 101)).count()).as("ids claimed again").isZero();
            assertThat(index.ids()).isEqualTo(events.size());
        }
    }

    /** {@code n} new events claimed (as sequence numbers 1..n) into the first table of a new index, closed cleanly. */
    private List<StoredEvent> claimedInAFirstTable(int n) throws Exception {
        List<StoredEvent> events = randomEvents(n);
        try (EventIdIndex index = EventIdIndex.open(dir, 0, 60_000, logged(dir), 10, 12)) {
            for (int i = 0; i < events.size(); i++) {
                assertThat(index.claim(events.get(i), i + 1)).isTrue();
            }
            index.commit(events.size());
        }
        return events;
    }

    private static List<String> tableFiles(Path ids) throws Exception {
        try (var files = Files.list(ids)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(IdTable.SUFFIX)).sorted().toList();
        }
    }

    @Test
    void aTableACrashLeftShortIsRebuiltFromTheLog() throws Exception {
        List<StoredEvent> first = randomEvents(100);
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, first.toArray(StoredEvent[]::new)).stored()).isEqualTo(100);
        }
        Path table = dir.resolve(EventIdIndex.DIRECTORY).resolve("000001" + IdTable.SUFFIX);
        try (var ch = FileChannel.open(table, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2); // its zeros never reached the disk whole
        }
        assertEveryIdStoredOnceAfterReopening(first);
    }

    /** Reopened, the store knows every id of {@code stored} and still takes a new one. */
    private void assertEveryIdStoredOnceAfterReopening(List<StoredEvent> stored) throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, SMALL)) {
            assertThat(write(store, stored.toArray(StoredEvent[]::new))).isEqualTo(new WriteResult(0, stored.size()));
            assertThat(write(store, event("after-rebuild", "ds-a"))).isEqualTo(new WriteResult(1, 0));
        }
        assertThat(storedIds()).hasSize(stored.size() + 1);
    }

    private static void copySegments(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var old = Files.list(to)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        try (var files = Files.list(from)) {
            for (Path p : files.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private static WriteResult write(EventLogStore store, StoredEvent... events) throws Exception {
        return store.write(List.of(events)).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private List<String> storedIds() throws Exception {
        List<String> ids = new ArrayList<>();
        EventReader.forEach(dir, null, e -> ids.add(e.eventId()));
        return ids;
    }

    private static List<StoredEvent> randomEvents(int n) {
        List<StoredEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(event(i % 5 == 0 ? "text-id-" + i : UUID.randomUUID().toString(), i % 2 == 0 ? "ds-a" : "ds-b"));
        }
        return events;
    }

    private static StoredEvent event(String id, String datastream) {
        return new StoredEvent("req", datastream, "events", System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\"}}").getBytes(StandardCharsets.UTF_8));
    }

    /** What the store hands the index on open: the ids its event log holds. */
    private static LoggedIds logged(Path dataDir) {
        return (after, each) -> EventLogRecovery.scanIds(dataDir, after, each);
    }
}
