package org.xdmedge.consent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.state.IdentityStateStore;
import org.xdmedge.state.SqliteIdentityStateStore;

class ConsentLedgerTest {
    private static final String ORG = "53A16ACB5CC1D3760A495C99@AdobeOrg";
    private static final String ECID = "01234567890123456789012345678901234567";

    @TempDir
    Path dir;

    private static ConsentRecord out() {
        var prefs = EdgeJson.MAPPER.createObjectNode();
        prefs.putObject("collect").put("val", "n");
        return new ConsentRecord(Consent.OUT, prefs, 1000);
    }

    @Test
    void recordsAndLooksUpPerOrganizationInTheSqliteStore() throws Exception {
        try (SqliteIdentityStateStore store = new SqliteIdentityStateStore(dir);
             ConsentLedger ledger = new ConsentLedger(store, 2, 16, 1)) {
            ledger.record(ORG, ECID, out()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            Map<String, ConsentRecord> found = ledger.lookup(ORG, List.of(ECID, "other"))
                    .toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(found).containsOnlyKeys(ECID);
            assertThat(found.get(ECID).consent()).isEqualTo(Consent.OUT);
            assertThat(ledger.lookup("OTHER@AdobeOrg", List.of(ECID)).toCompletableFuture().get(30, TimeUnit.SECONDS))
                    .as("organizations never share state").isEmpty();
        }
    }

    /** A store whose reads wait until released, to fill the worker queue deterministically. */
    private static final class GatedStore implements IdentityStateStore {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);

        @Override
        public Optional<String> get(String orgId, String ecid, String key) {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Optional.empty();
        }

        @Override
        public void put(String orgId, String ecid, String key, String value) {
            throw new IllegalStateException("disk full");
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aFullQueueAnswers503AtOnceAndAFailingStoreToo() throws Exception {
        GatedStore store = new GatedStore();
        try (ConsentLedger ledger = new ConsentLedger(store, 1, 1, 7)) {
            CompletionStage<Map<String, ConsentRecord>> running = ledger.lookup(ORG, List.of(ECID));
            assertThat(store.entered.await(30, TimeUnit.SECONDS)).isTrue();
            CompletionStage<Map<String, ConsentRecord>> queued = ledger.lookup(ORG, List.of(ECID));
            CompletionStage<Map<String, ConsentRecord>> refused = ledger.lookup(ORG, List.of(ECID));
            assertThat(refused.toCompletableFuture()).isCompletedExceptionally();
            EdgeProblem problem = cause(refused);
            assertThat(problem.error()).isEqualTo(EdgeError.SERVICE_UNAVAILABLE);
            assertThat(problem.retryAfterSeconds()).isEqualTo(7);
            store.release.countDown();
            assertThat(running.toCompletableFuture().get(30, TimeUnit.SECONDS)).isEmpty();
            assertThat(queued.toCompletableFuture().get(30, TimeUnit.SECONDS)).isEmpty();

            CompletionStage<Void> failed = ledger.record(ORG, ECID, out());
            assertThat(cause(failed).error()).isEqualTo(EdgeError.SERVICE_UNAVAILABLE);
        }
    }

    private static EdgeProblem cause(CompletionStage<?> stage) throws Exception {
        try {
            stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return (EdgeProblem) e.getCause();
        }
    }

    /** Counts reads, so a test can tell a cache hit from a store read. */
    private static final class CountingStore implements IdentityStateStore {
        final IdentityStateStore inner;
        final AtomicInteger reads = new AtomicInteger();

        CountingStore(IdentityStateStore inner) {
            this.inner = inner;
        }

        @Override
        public Optional<String> get(String orgId, String ecid, String key) {
            reads.incrementAndGet();
            return inner.get(orgId, ecid, key);
        }

        @Override
        public void put(String orgId, String ecid, String key, String value) {
            inner.put(orgId, ecid, key, value);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void theCacheAnswersRepeatedLookupsIncludingAbsentRecordsAndSeesEveryRecordedChange() throws Exception {
        try (CountingStore store = new CountingStore(new SqliteIdentityStateStore(dir));
             ConsentLedger ledger = new ConsentLedger(store, 2, 16, 1, 100)) {
            assertThat(await(ledger.lookup(ORG, List.of(ECID)))).isEmpty();
            assertThat(await(ledger.lookup(ORG, List.of(ECID)))).as("absence is cached").isEmpty();
            assertThat(store.reads.get()).isEqualTo(1);
            assertThat(ledger.lookup(ORG, List.of(ECID)).toCompletableFuture().isDone())
                    .as("a cached answer needs no worker thread").isTrue();

            ledger.record(ORG, ECID, out()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            Map<String, ConsentRecord> found = await(ledger.lookup(ORG, List.of(ECID)));
            assertThat(found.get(ECID).consent()).as("write-through: the new record replaces the cached absence")
                    .isEqualTo(Consent.OUT);
            assertThat(store.reads.get()).isEqualTo(1);

            var prefs = EdgeJson.MAPPER.createObjectNode();
            prefs.putObject("collect").put("val", "y");
            ledger.record(ORG, ECID, new ConsentRecord(Consent.IN, prefs, 2000)).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertThat(await(ledger.lookup(ORG, List.of(ECID))).get(ECID).consent()).isEqualTo(Consent.IN);
            assertThat(await(ledger.lookup("OTHER@AdobeOrg", List.of(ECID)))).as("organizations never share state").isEmpty();
        }
        // A restart starts with an empty cache and reads what was recorded from the file.
        try (CountingStore store = new CountingStore(new SqliteIdentityStateStore(dir));
             ConsentLedger ledger = new ConsentLedger(store, 2, 16, 1, 100)) {
            assertThat(await(ledger.lookup(ORG, List.of(ECID))).get(ECID).consent()).isEqualTo(Consent.IN);
            assertThat(store.reads.get()).isEqualTo(1);
        }
    }

    @Test
    void theCacheIsBoundedAndEvictsTheLeastRecentlyUsed() throws Exception {
        try (CountingStore store = new CountingStore(new SqliteIdentityStateStore(dir));
             ConsentLedger ledger = new ConsentLedger(store, 1, 16, 1, 3)) {
            for (int i = 0; i < 10; i++) {
                await(ledger.lookup(ORG, List.of("ecid-" + i)));
            }
            assertThat(ledger.cachedEntries()).isEqualTo(3);
            int reads = store.reads.get();
            await(ledger.lookup(ORG, List.of("ecid-9")));
            assertThat(store.reads.get()).isEqualTo(reads);
            await(ledger.lookup(ORG, List.of("ecid-0")));
            assertThat(store.reads.get()).as("evicted entries are read again").isEqualTo(reads + 1);
        }
    }

    @Test
    void withoutACacheEveryLookupAsksTheStore() throws Exception {
        try (CountingStore store = new CountingStore(new SqliteIdentityStateStore(dir));
             ConsentLedger ledger = new ConsentLedger(store, 1, 16, 1)) {
            await(ledger.lookup(ORG, List.of(ECID)));
            await(ledger.lookup(ORG, List.of(ECID)));
            assertThat(store.reads.get()).isEqualTo(2);
            assertThat(ledger.cachedEntries()).isZero();
        }
    }
}
