package org.xdmedge.outlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.state.SqliteEventIdLedger;

/**
 * How the dedup ledger settles each outcome of an outlet. The outlet here is scripted, because the
 * outcomes that matter (a Kafka commit whose result never arrives, an answer after the client
 * gave up) cannot be caused on demand with a real broker; the ledger is the real SQLite one.
 */
class DedupingSinkTest {
    @TempDir
    Path dir;
    SqliteEventIdLedger ledger;
    ScheduledExecutorService timer;
    ScriptedOutlet outlet;
    DedupingSink sink;

    /** Records what reaches the outlet; answers with whatever the test put in {@code next}. */
    static final class ScriptedOutlet implements EventSink {
        final List<List<StoredEvent>> writes = new ArrayList<>();
        CompletableFuture<WriteResult> next;

        @Override
        public synchronized CompletionStage<WriteResult> write(List<StoredEvent> events) {
            writes.add(events);
            if (next == null) {
                return CompletableFuture.completedFuture(new WriteResult(events.size(), 0));
            }
            return next;
        }

        @Override
        public boolean ready() {
            return true;
        }

        @Override
        public void close() {}
    }

    @BeforeEach
    void open() throws Exception {
        ledger = new SqliteEventIdLedger(dir, 60_000, 60_000);
        timer = Executors.newSingleThreadScheduledExecutor();
        outlet = new ScriptedOutlet();
        sink = new DedupingSink(outlet, ledger, Executors.newFixedThreadPool(2), timer, 500, 1);
    }

    @AfterEach
    void close() {
        timer.shutdownNow();
        ledger.close();
    }

    static StoredEvent event(String id) {
        return new StoredEvent("req", "ds", "web", 0, id, "FPID", "f", "{}".getBytes(StandardCharsets.UTF_8));
    }

    WriteResult write(String... ids) throws Exception {
        List<StoredEvent> events = new ArrayList<>();
        for (String id : ids) {
            events.add(event(id));
        }
        return sink.write(events).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    Throwable failure(String... ids) {
        try {
            write(ids);
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void storedIdsAreAcknowledgedAsDuplicatesWithoutReachingTheOutlet() throws Exception {
        assertThat(write("a", "b", "a")).isEqualTo(new WriteResult(2, 1));
        assertThat(write("a", "b", "c")).isEqualTo(new WriteResult(1, 2));
        assertThat(outlet.writes).hasSize(2);
        assertThat(outlet.writes.get(1)).extracting(StoredEvent::eventId).containsExactly("c");
    }

    @Test
    void aDefiniteFailureFreesTheIdsForTheRetry() throws Exception {
        outlet.next = CompletableFuture.failedFuture(new SinkUnavailableException("down", 1));
        assertThat(failure("a")).isInstanceOf(SinkUnavailableException.class);
        outlet.next = null;
        assertThat(write("a")).isEqualTo(new WriteResult(1, 0));
    }

    @Test
    void anUnknownOutcomeKeepsTheIdsClaimedSoTheRetryWaitsInsteadOfDuplicating() throws Exception {
        outlet.next = CompletableFuture.failedFuture(new OutcomeUnknownException("commit timed out", 1, null));
        assertThat(failure("a")).isInstanceOf(OutcomeUnknownException.class);
        outlet.next = null;
        assertThat(failure("a")).isInstanceOf(SinkUnavailableException.class).hasMessageContaining("being stored");
        assertThat(outlet.writes).hasSize(1);
    }

    @Test
    void aClientThatGaveUpLearnsOnRetryThatTheLateWriteLanded() throws Exception {
        CompletableFuture<WriteResult> late = new CompletableFuture<>();
        outlet.next = late;
        assertThat(failure("a")).isInstanceOf(SinkUnavailableException.class).hasMessageContaining("did not confirm");
        // While the outcome is open, the retry is told to come back.
        assertThat(failure("a")).hasMessageContaining("being stored");
        late.complete(new WriteResult(1, 0));
        outlet.next = null;
        // The confirm runs on the ledger pool; until it has, the retry is still told to come back.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        WriteResult retried = null;
        while (retried == null) {
            try {
                retried = write("a");
            } catch (ExecutionException e) {
                assertThat(e.getCause()).hasMessageContaining("being stored");
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(50);
            }
        }
        assertThat(retried).isEqualTo(new WriteResult(0, 1));
        assertThat(outlet.writes).hasSize(1);
    }
}
