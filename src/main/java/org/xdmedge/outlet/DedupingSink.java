package org.xdmedge.outlet;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 *
 * <p>With a {@link Settler} (the Kafka outlet), an outcome that stays unknown is settled from the
 * log instead of by a timer: claims record the writer and when they were made; a retry that finds
 * ids held by a claim at least {@link Settler#SETTLE_AFTER_MILLIS} old whose holder's lease lapsed
 * (or, holder alive, older than the pending time), or held by a claim of a process known to have
 * ended, asks the outlet to fence that writer and read its log from the claim's time. Ids found
 * there become stored (the retry is acknowledged as a duplicate); ids not there are freed and the
 * retry stores them.
 */
public final class DedupingSink implements EventSink {
    private static final Logger log = LoggerFactory.getLogger(DedupingSink.class);

    /** An outlet that can learn from its own log whether a writer's events landed. */
    public interface Settler {
        /**
         * How old a claim must be before a retry may settle it. The outlet never publishes an event
         * received more than {@code SETTLE_AFTER_MILLIS} minus the nodes' clock skew (up to 5 s)
         * before its producer was started, so a write the settler fenced cannot land later
         * through a new producer.
         */
        long SETTLE_AFTER_MILLIS = 10_000;
        /** The log is read from this long before the claim, for clocks that differ between nodes. */
        long CLOCK_SKEW_MILLIS = 5_000;

        /** The tag this outlet's claims record: enough for another node to find and fence the writer. */
        String writerTag();

        /** Whether {@link #settle} understands claims made with {@code writerTag}. */
        boolean canSettle(String writerTag);

        /**
         * Fences the writer of {@code writerTag} (once this completes, no write it started can still
         * land), then reads the log from {@code sinceMillis} and completes with the keys
         * ({@code datastreamId:eventId}) of {@code events} found there. {@code writerEnded}: the
         * claims' process has ended (see {@link EventIdLedger.Holder#ended()}), so if it was this
         * outlet's own writer, the outlet's producers registering at start fenced it already. Runs
         * off the caller's thread.
         */
        CompletionStage<Set<String>> settle(String writerTag, long sinceMillis, List<StoredEvent> events, boolean writerEnded);
    }

    /**
     * Delay between the outlet's success and marking the ids stored, 0 unless the system property
     * {@code xdmedge.dedupConfirmDelayMillis} is set: a crash test widens the window in which a
     * kill leaves published events with open claims.
     */
    static final long CONFIRM_DELAY_MILLIS = Long.getLong("xdmedge.dedupConfirmDelayMillis", 0);

    private final EventSink outlet;
    private final Settler settler;
    private final long pendingMillis;
    private final EventIdLedger ledger;
    private final Executor ledgerExecutor;
    private final ScheduledExecutorService timer;
    private final long responseTimeoutMillis;
    private final int retryAfterSeconds;

    public DedupingSink(EventSink outlet, EventIdLedger ledger, Executor ledgerExecutor, ScheduledExecutorService timer,
                        long responseTimeoutMillis, int retryAfterSeconds) {
        this(outlet, null, 0, ledger, ledgerExecutor, timer, responseTimeoutMillis, retryAfterSeconds);
    }

    /** With {@code settler} (may be null): held ids are settled from its log; {@code pendingMillis} bounds how long a live holder is waited for. */
    public DedupingSink(EventSink outlet, Settler settler, long pendingMillis, EventIdLedger ledger, Executor ledgerExecutor,
                        ScheduledExecutorService timer, long responseTimeoutMillis, int retryAfterSeconds) {
        this.outlet = outlet;
        this.settler = settler;
        this.pendingMillis = pendingMillis;
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
        return write(events, settler != null);
    }

    private CompletionStage<WriteResult> write(List<StoredEvent> events, boolean maySettle) {
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
            CompletableFuture.supplyAsync(() -> ledger.claim(keys, settler == null ? null : settler.writerTag()), ledgerExecutor)
                    .whenComplete((claims, failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(unavailable("the dedup ledger failed", failure));
                } else {
                    store(events, unique, keys, claims, repeatedInRequest, maySettle, answer);
                }
            });
        } catch (RejectedExecutionException e) {
            answer.completeExceptionally(new SinkUnavailableException("the dedup ledger is busy", retryAfterSeconds));
        }
        return answer;
    }

    private void store(List<StoredEvent> events, List<StoredEvent> unique, List<String> keys, List<EventIdLedger.Claim> claims,
                       int repeatedInRequest, boolean maySettle, CompletableFuture<WriteResult> answer) {
        String requestId = unique.isEmpty() ? "-" : unique.get(0).requestId();
        List<StoredEvent> fresh = new ArrayList<>();
        List<String> claimed = new ArrayList<>();
        int stored = 0;
        boolean inFlight = false;
        Map<String, StoredEvent> held = new LinkedHashMap<>();
        for (int i = 0; i < unique.size(); i++) {
            switch (claims.get(i)) {
                case CLAIMED -> {
                    fresh.add(unique.get(i));
                    claimed.add(keys.get(i));
                }
                case STORED -> stored++;
                case IN_FLIGHT -> {
                    inFlight = true;
                    held.put(keys.get(i), unique.get(i));
                }
            }
        }
        int duplicates = stored + repeatedInRequest;
        if (inFlight) {
            // Storing the rest alone would split the request; let the whole retry come back later.
            SinkUnavailableException busy = new SinkUnavailableException(
                    "an event of this request is being stored by another request", retryAfterSeconds);
            if (maySettle) {
                onLedger(requestId, () -> ledger.release(claimed), () -> settleHeld(requestId, events, held, busy, answer));
            } else {
                onLedger(requestId, () -> ledger.release(claimed), () -> answer.completeExceptionally(busy));
            }
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
                // Durable already: if the confirm fails, the ids stay claimed until settled, so a retry never duplicates.
                Runnable confirm = () -> onLedger(requestId, () -> ledger.confirm(claimed),
                        () -> answer.complete(new WriteResult(result.stored(), result.duplicates() + duplicates)));
                if (CONFIRM_DELAY_MILLIS > 0) {
                    timer.schedule(confirm, CONFIRM_DELAY_MILLIS, TimeUnit.MILLISECONDS);
                } else {
                    confirm.run();
                }
            } else if (cause instanceof OutcomeUnknownException) {
                log.warn("requestId={} outcome of {} events unknown; their ids stay claimed: {}", requestId, claimed.size(), cause.getMessage());
                answer.completeExceptionally(cause);
            } else {
                // Released before answering, so the client's retry finds the ids free.
                onLedger(requestId, () -> ledger.release(claimed), () -> answer.completeExceptionally(cause));
            }
        });
    }

    /**
     * Settles from the log the held ids whose claims are old enough and whose holder is gone (or
     * has held them past the pending time), then writes the request again (without settling
     * again). Held ids that may still be in flight leave the retry to come back later.
     */
    private void settleHeld(String requestId, List<StoredEvent> events, Map<String, StoredEvent> held,
                            SinkUnavailableException busy, CompletableFuture<WriteResult> answer) {
        CompletableFuture<Map<String, EventIdLedger.Holder>> holders;
        try {
            holders = CompletableFuture.supplyAsync(() -> ledger.holders(List.copyOf(held.keySet())), ledgerExecutor);
        } catch (RejectedExecutionException e) {
            answer.completeExceptionally(busy);
            return;
        }
        holders.thenCompose(current -> {
            long now = System.currentTimeMillis();
            Map<Map.Entry<String, Boolean>, Map<String, EventIdLedger.Holder>> byWriter = new HashMap<>();
            current.forEach((key, h) -> {
                long age = now - h.claimedAtMillis();
                // An ended holder queues nothing any more, so no write of it can land after the fence.
                boolean due = h.ended() || (age >= Settler.SETTLE_AFTER_MILLIS && (!h.live() || age >= pendingMillis));
                if (due && settler.canSettle(h.writerTag())) {
                    byWriter.computeIfAbsent(Map.entry(h.writerTag(), h.ended()), t -> new LinkedHashMap<>()).put(key, h);
                }
            });
            if (byWriter.isEmpty()) {
                return CompletableFuture.<Boolean>completedFuture(false);
            }
            List<CompletableFuture<Void>> settled = new ArrayList<>();
            byWriter.forEach((writer, claimsOfWriter) -> {
                long since = claimsOfWriter.values().stream().mapToLong(EventIdLedger.Holder::claimedAtMillis).min().orElseThrow()
                        - Settler.CLOCK_SKEW_MILLIS;
                List<StoredEvent> toFind = claimsOfWriter.keySet().stream().map(held::get).toList();
                settled.add(settler.settle(writer.getKey(), since, toFind, writer.getValue()).toCompletableFuture().thenAcceptAsync(found -> {
                    Map<String, EventIdLedger.Holder> stored = new HashMap<>();
                    Map<String, EventIdLedger.Holder> absent = new HashMap<>();
                    claimsOfWriter.forEach((key, h) -> (found.contains(key) ? stored : absent).put(key, h));
                    ledger.settle(stored, absent);
                    log.info("requestId={} settled {} ids held by a lapsed write from the log: {} were published, {} were not",
                            requestId, claimsOfWriter.size(), stored.size(), absent.size());
                }, ledgerExecutor));
            });
            return CompletableFuture.allOf(settled.toArray(CompletableFuture[]::new)).thenApply(v -> true);
        }).whenComplete((settledAny, failure) -> {
            if (failure != null) {
                log.warn("requestId={} could not settle held ids from the log: {}", requestId, unwrap(failure).getMessage());
                answer.completeExceptionally(busy);
            } else if (!settledAny) {
                answer.completeExceptionally(busy);
            } else {
                write(events, false).whenComplete((r, f) -> {
                    if (f != null) {
                        answer.completeExceptionally(unwrap(f));
                    } else {
                        answer.complete(r);
                    }
                });
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
