package org.xdmedge.store;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts an {@link EventIdLedger} in front of an outlet, so that an event id is stored once even when
 * the retry reaches another node, and bounds how long a client waits.
 *
 * <p>Per write: claim the ids (duplicates inside the request count once), store only the claimed
 * events, then confirm them before answering. The client's answer comes after
 * {@code responseTimeoutMillis} at the latest (503); the outlet's real outcome still settles the
 * ledger when it arrives, so a retry then finds the id stored (acknowledged as a duplicate) or free
 * (stored anew), never both.
 */
public final class DedupingSink implements EventSink {
    private static final Logger log = LoggerFactory.getLogger(DedupingSink.class);
    private final EventSink outlet;
    private final EventIdLedger ledger;
    private final Executor ledgerExecutor;
    private final ScheduledExecutorService timer;
    private final long responseTimeoutMillis;
    private final int retryAfterSeconds;

    public DedupingSink(EventSink outlet, EventIdLedger ledger, Executor ledgerExecutor, ScheduledExecutorService timer,
                        long responseTimeoutMillis, int retryAfterSeconds) {
        this.outlet = outlet;
        this.ledger = ledger;
        this.ledgerExecutor = ledgerExecutor;
        this.timer = timer;
        this.responseTimeoutMillis = responseTimeoutMillis;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    static String key(StoredEvent e) {
        return e.datastreamId() + ":" + e.eventId();
    }

    @Override
    public CompletionStage<WriteResult> write(List<StoredEvent> events) {
        if (!ledger.ready()) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the dedup ledger is unavailable", retryAfterSeconds));
        }
        if (!outlet.ready()) {
            // Known down or full: answer at once, without claiming ids that would only be released again.
            return CompletableFuture.failedFuture(new SinkUnavailableException("the outlet is not accepting writes", retryAfterSeconds));
        }
        List<StoredEvent> unique = new ArrayList<>(events.size());
        List<String> keys = new ArrayList<>(events.size());
        Set<String> seen = new HashSet<>();
        for (StoredEvent e : events) {
            String key = key(e);
            if (seen.add(key)) {
                unique.add(e);
                keys.add(key);
            }
        }
        int repeatedInRequest = events.size() - unique.size();
        CompletableFuture<WriteResult> answer = new CompletableFuture<>();
        var timeout = timer.schedule(() -> answer.completeExceptionally(new SinkUnavailableException(
                "the outlet did not confirm within " + responseTimeoutMillis + " ms", retryAfterSeconds)),
                responseTimeoutMillis, TimeUnit.MILLISECONDS);
        answer.whenComplete((r, f) -> timeout.cancel(false));
        try {
            CompletableFuture.supplyAsync(() -> ledger.claim(keys), ledgerExecutor).whenComplete((claims, failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(unavailable("the dedup ledger failed", failure));
                } else {
                    store(unique, keys, claims, repeatedInRequest, answer);
                }
            });
        } catch (RejectedExecutionException e) {
            answer.completeExceptionally(new SinkUnavailableException("the dedup ledger is busy", retryAfterSeconds));
        }
        return answer;
    }

    private void store(List<StoredEvent> unique, List<String> keys, List<EventIdLedger.Claim> claims,
                       int repeatedInRequest, CompletableFuture<WriteResult> answer) {
        String requestId = unique.isEmpty() ? "-" : unique.get(0).requestId();
        List<StoredEvent> fresh = new ArrayList<>();
        List<String> claimed = new ArrayList<>();
        int stored = 0;
        boolean inFlight = false;
        for (int i = 0; i < unique.size(); i++) {
            switch (claims.get(i)) {
                case CLAIMED -> {
                    fresh.add(unique.get(i));
                    claimed.add(keys.get(i));
                }
                case STORED -> stored++;
                case IN_FLIGHT -> inFlight = true;
            }
        }
        int duplicates = stored + repeatedInRequest;
        if (inFlight) {
            // Storing the rest alone would split the request; let the whole retry come back later.
            SinkUnavailableException busy = new SinkUnavailableException(
                    "an event of this request is being stored by another request", retryAfterSeconds);
            onLedger(requestId, () -> ledger.release(claimed), () -> answer.completeExceptionally(busy));
            return;
        }
        if (fresh.isEmpty()) {
            answer.complete(new WriteResult(0, duplicates));
            return;
        }
        CompletionStage<WriteResult> written;
        try {
            written = outlet.write(fresh);
        } catch (RuntimeException e) {
            written = CompletableFuture.failedFuture(e);
        }
        written.whenComplete((result, failure) -> {
            Throwable cause = unwrap(failure);
            if (cause == null) {
                // Durable already: if the confirm fails, the ids stay claimed until pendingSeconds, so a retry waits instead of duplicating.
                onLedger(requestId, () -> ledger.confirm(claimed),
                        () -> answer.complete(new WriteResult(result.stored(), result.duplicates() + duplicates)));
            } else if (cause instanceof OutcomeUnknownException) {
                log.warn("requestId={} outcome of {} events unknown; their ids stay claimed: {}", requestId, claimed.size(), cause.getMessage());
                answer.completeExceptionally(cause);
            } else {
                // Released before answering, so the client's retry finds the ids free.
                onLedger(requestId, () -> ledger.release(claimed), () -> answer.completeExceptionally(cause));
            }
        });
    }

    /** Runs a ledger call off the caller's thread, then {@code then} whether or not the call succeeded. */
    private void onLedger(String requestId, Runnable work, Runnable then) {
        Runnable guarded = () -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                log.warn("requestId={} dedup ledger call failed: {}", requestId, e.getMessage());
            } finally {
                then.run();
            }
        };
        try {
            ledgerExecutor.execute(guarded);
        } catch (RejectedExecutionException e) {
            guarded.run();
        }
    }

    private SinkUnavailableException unavailable(String what, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof SinkUnavailableException s) {
            return s;
        }
        return new SinkUnavailableException(what + ": " + cause.getMessage(), retryAfterSeconds, cause);
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    @Override
    public boolean ready() {
        return ledger.ready() && outlet.ready();
    }

    /** Closes the outlet; the ledger is shared and closed by its owner. */
    @Override
    public void close() {
        outlet.close();
    }
}
