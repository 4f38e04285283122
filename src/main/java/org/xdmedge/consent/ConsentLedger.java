package org.xdmedge.consent;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.store.IdentityStateStore;

/**
 * Consent per ECID per organization, kept in the {@link IdentityStateStore}. The store blocks, so
 * every call runs on a small pool of worker threads behind a bounded queue: the event loop never
 * waits, and a full queue fails the request at once with 503 EXEG-0000-503 and {@code Retry-After}.
 */
public final class ConsentLedger implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsentLedger.class);
    public static final int DEFAULT_THREADS = 2;
    public static final int DEFAULT_QUEUE_CAPACITY = 1024;

    private final IdentityStateStore store;
    private final ThreadPoolExecutor workers;
    private final int retryAfterSeconds;

    public ConsentLedger(IdentityStateStore store, int threads, int queueCapacity, int retryAfterSeconds) {
        this.store = store;
        this.retryAfterSeconds = retryAfterSeconds;
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity), r -> {
                    Thread t = new Thread(r, "identity-state-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
    }

    /** The recorded consent of each ECID that has one. */
    public CompletionStage<Map<String, ConsentRecord>> lookup(String orgId, Collection<String> ecids) {
        if (ecids.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return run(() -> {
            Map<String, ConsentRecord> found = new LinkedHashMap<>();
            for (String ecid : ecids) {
                Optional<String> json = store.get(orgId, ecid, ConsentRecord.STATE_KEY);
                json.flatMap(ConsentRecord::fromJson).ifPresent(r -> found.put(ecid, r));
            }
            return found;
        });
    }

    /** Records a visitor's consent; completes once the store has it. */
    public CompletionStage<Void> record(String orgId, String ecid, ConsentRecord record) {
        return run(() -> {
            store.put(orgId, ecid, ConsentRecord.STATE_KEY, record.toJson());
            return null;
        });
    }

    private <T> CompletionStage<T> run(Supplier<T> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    done.complete(work.get());
                } catch (RuntimeException e) {
                    log.warn("identity state store failed: {}", e.getMessage());
                    done.completeExceptionally(EdgeProblem.unavailable(
                            "The edge cannot read or record consent now. Retry later.", retryAfterSeconds));
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new EdgeProblem(EdgeError.SERVICE_UNAVAILABLE,
                    "The edge is busy recording consent. Retry later with the same requestId.",
                    Map.of(), java.util.List.of(), retryAfterSeconds));
        }
        return done;
    }

    /** Finishes queued work, then stops the workers. The store is closed by its owner. */
    @Override
    public void close() {
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
