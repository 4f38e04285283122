package org.xdmedge.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteEventStoreTest {
    @TempDir
    Path dir;

    @Test
    void aFailingRequestRollsBackAloneAndNeverLeavesHalfABatch() throws Exception {
        try (SqliteEventStore store = SqliteEventStore.open(dir, 100, 64, 1)) {
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
        SqliteEventReader.forEach(dir, null, e -> ids.add(e.eventId()));
        assertThat(ids).hasSize(40).noneMatch(id -> id.startsWith("half"));
    }

    @Test
    void aNewEventFileGetsTheLargerPagesAndAnExistingOneKeepsItsOwn() throws Exception {
        SqliteEventStore.open(dir, 10, 8, 1).close();
        assertThat(pageSize(dir.resolve(SqliteEventStore.FILE_NAME))).isEqualTo(SqliteEventStore.PAGE_SIZE);

        Path old = dir.resolve("old");
        java.nio.file.Files.createDirectories(old);
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old.resolve(SqliteEventStore.FILE_NAME));
             var st = c.createStatement()) {
            st.execute("PRAGMA page_size=4096");
            st.execute("PRAGMA journal_mode=WAL");
        }
        try (SqliteEventStore store = SqliteEventStore.open(old, 10, 8, 1)) {
            assertThat(store.write(List.of(event("in-old-file", "events"))).toCompletableFuture()
                    .get(30, TimeUnit.SECONDS).stored()).isEqualTo(1);
        }
        assertThat(pageSize(old.resolve(SqliteEventStore.FILE_NAME))).isEqualTo(4096);
    }

    private static int pageSize(Path file) throws Exception {
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
             var st = c.createStatement(); var rs = st.executeQuery("PRAGMA page_size")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void duplicatesWithinAndAcrossRequestsAreCounted() throws Exception {
        try (SqliteEventStore store = SqliteEventStore.open(dir, 100, 64, 1)) {
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
    void closedStoreRefusesWritesAndReopenKeepsEverything() throws Exception {
        SqliteEventStore store = SqliteEventStore.open(dir, 100, 64, 1);
        store.write(List.of(event("kept", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS);
        store.close();
        assertThat(store.ready()).isFalse();
        assertThatThrownBy(() -> store.write(List.of(event("late", "events"))).toCompletableFuture().get())
                .hasCauseInstanceOf(SinkUnavailableException.class);
        try (SqliteEventStore reopened = SqliteEventStore.open(dir, 100, 64, 1)) {
            assertThat(reopened.ready()).isTrue();
            List<String> ids = new ArrayList<>();
            SqliteEventReader.forEach(dir, "events", e -> ids.add(e.eventId()));
            assertThat(ids).containsExactly("kept");
        }
    }

    @Test
    void theLogIsCopiedInTheBackgroundAndStaysSmallWhileTheWriterKeepsWriting() throws Exception {
        byte[] padding = new byte[12_000];
        java.util.Arrays.fill(padding, (byte) 'x');
        String pad = new String(padding, StandardCharsets.US_ASCII);
        Path wal = dir.resolve(SqliteEventStore.FILE_NAME + "-wal");
        long largestLog = 0;
        long restartAt = 16L << 20;
        try (SqliteEventStore store = SqliteEventStore.open(dir, 100, 64, 1, restartAt)) {
            // 160 requests of 50 events of 12 KB (96 MB), eight in flight: the writer never pauses.
            java.util.ArrayDeque<CompletableFuture<WriteResult>> inFlight = new java.util.ArrayDeque<>();
            for (int r = 0; r < 160; r++) {
                List<StoredEvent> events = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    String id = "e-" + r + "-" + i;
                    events.add(new StoredEvent("req-" + r, "ds", "events", System.currentTimeMillis(), id, "CRMID", "u",
                            ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + pad + "\"}}").getBytes(StandardCharsets.UTF_8)));
                }
                inFlight.add(store.write(events).toCompletableFuture());
                if (inFlight.size() == 8) {
                    assertThat(inFlight.poll().get(30, TimeUnit.SECONDS).stored()).isEqualTo(50);
                    largestLog = Math.max(largestLog, java.nio.file.Files.size(wal));
                }
            }
            for (var f : inFlight) {
                assertThat(f.get(30, TimeUnit.SECONDS).stored()).isEqualTo(50);
            }
            largestLog = Math.max(largestLog, java.nio.file.Files.size(wal));
            assertThat(store.checkpoints()).as("checkpoints on the checkpointer's thread").isPositive();
            assertThat(store.writerCheckpoints()).as("tails copied by the writer, so the log restarts").isPositive();
        }
        // Never copied, the log would hold all 96 MB; copied and restarted, it stays near its limit.
        assertThat(largestLog).isLessThan(restartAt + 2 * WalCheckpointer.MAX_CYCLE_BYTES);
        long[] count = {0};
        SqliteEventReader.forEach(dir, "events", e -> count[0]++);
        assertThat(count[0]).isEqualTo(8000);
    }

    @Test
    void aQuietStoreHasItsLogCopiedWithinSeconds() throws Exception {
        try (SqliteEventStore store = SqliteEventStore.open(dir, 100, 64, 1)) {
            store.write(List.of(event("one", "events"))).toCompletableFuture().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (store.checkpoints() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(store.checkpoints()).isPositive();
            // The database file alone, without its log, already holds the event.
            Path copy = dir.resolve("copy");
            java.nio.file.Files.createDirectories(copy);
            java.nio.file.Files.copy(dir.resolve(SqliteEventStore.FILE_NAME), copy.resolve(SqliteEventStore.FILE_NAME));
            List<String> ids = new ArrayList<>();
            SqliteEventReader.forEach(copy, "events", e -> ids.add(e.eventId()));
            assertThat(ids).containsExactly("one");
        }
    }

    static StoredEvent event(String id, String dataset) {
        return new StoredEvent("req", "ds", dataset, System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\"}}").getBytes(StandardCharsets.UTF_8));
    }
}
