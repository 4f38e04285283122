package org.xdmedge.consent;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
import org.xdmedge.state.IdentityStateStore;

/**
 * Consent per ECID per organization, kept in the {@link IdentityStateStore}. The store blocks, so
 * every call runs on a small pool of worker threads behind a bounded queue: the event loop never
 * waits, and a full queue fails the request at once with 503 EXEG-0000-503 and {@code Retry-After}.
 *
 * <p>With a {@code cacheEntries} bound above zero the ledger keeps a write-through LRU cache of
 * records <em>and of their absence</em>, read on the caller's thread: a lookup whose ECIDs are all
 * cached needs neither a worker thread nor the store. This is valid only when this process is the
 * only writer of the store (the embedded SQLite {@code state.sqlite} of a single node); with Redis,
 * where other nodes write, the ledger is built with no cache. Every store read or write that fills
 * the cache happens under one lock together with its cache update, so a lookup that read the store
 * before a concurrent {@link #record} can never put the older answer back into the cache.
 */
public final class ConsentLedger implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsentLedger.class);
    public static final int DEFAULT_THREADS = 2;
    public static final int DEFAULT_QUEUE_CAPACITY = 1024;

    private final IdentityStateStore store;
    private final ThreadPoolExecutor workers;
    private final int retryAfterSeconds;
    /** Cached answers per org + ECID: a record, or {@link #ABSENT}; null when caching is off. */
    private final Map<String, Object> cache;
    private final Object storeLock = new Object();
    private static final Object ABSENT = new Object();
    /** Default bound of the cache of a single node: ~100 k visitors, a few tens of MB at most. */
    public static final int DEFAULT_CACHE_ENTRIES = 100_000;

    public ConsentLedger(IdentityStateStore store, int threads, int queueCapacity, int retryAfterSeconds) {
        this(store, threads, queueCapacity, retryAfterSeconds, 0);
    }

    /**
     * @param cacheEntries bound of the write-through cache; 0 for none. Only for a store that no
     *     other process writes.
     */
    public ConsentLedger(IdentityStateStore store, int threads, int queueCapacity, int retryAfterSeconds,
                         int cacheEntries) {
        this.store = store;
        this.retryAfterSeconds = retryAfterSeconds;
        this.cache = cacheEntries <= 0 ? null : Collections.synchronizedMap(
                new LinkedHashMap<>(1024, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, Object> eldest) {
                        return size() > cacheEntries;
                    }
                });
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
        return lookup(orgId, ecids, "-");
    }

    /** As {@link #lookup(String, Collection)}, for the request {@code requestId} (named in log lines). */
    public CompletionStage<Map<String, ConsentRecord>> lookup(String orgId, Collection<String> ecids, String requestId) {
        if (ecids.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        if (cache != null) {
            Map<String, ConsentRecord> cached = fromCache(orgId, ecids);
            if (cached != null) {
                return CompletableFuture.completedFuture(cached);
            }
        }
        return run(requestId, () -> {
            Map<String, ConsentRecord> found = new LinkedHashMap<>();
            for (String ecid : ecids) {
                Optional<ConsentRecord> record;
                if (cache == null) {
                    record = read(orgId, ecid);
                } else {
                    synchronized (storeLock) {
                        record = read(orgId, ecid);
                        cache.put(cacheKey(orgId, ecid), record.isPresent() ? record.get() : ABSENT);
                    }
                }
                record.ifPresent(r -> found.put(ecid, r));
            }
            return found;
        });
    }

    /** Deletes the identity's state (a privacy delete), its cached consent with it; blocks. */
    public void forget(String orgId, String ecid) {
        synchronized (storeLock) {
            store.delete(orgId, ecid);
            if (cache != null) {
                cache.remove(cacheKey(orgId, ecid));
            }
        }
    }

    private Optional<ConsentRecord> read(String orgId, String ecid) {
        return store.get(orgId, ecid, ConsentRecord.STATE_KEY).flatMap(ConsentRecord::fromJson);
    }

    /** The answer when every ECID is cached; null when one of them is not. */
    private Map<String, ConsentRecord> fromCache(String orgId, Collection<String> ecids) {
        Map<String, ConsentRecord> found = null;
        for (String ecid : ecids) {
            Object hit = cache.get(cacheKey(orgId, ecid));
            if (hit == null) {
                return null;
            }
            if (hit instanceof ConsentRecord r) {
                if (found == null) {
                    found = new LinkedHashMap<>();
                }
                found.put(ecid, r);
            }
        }
        return found == null ? Map.of() : found;
    }

    private static String cacheKey(String orgId, String ecid) {
        return orgId + '\n' + ecid;
    }

    /** Cached entries (records and absences), for tests and metrics; 0 without a cache. */
    public int cachedEntries() {
        return cache == null ? 0 : cache.size();
    }

    /** Records a visitor's consent; completes once the store has it. */
    public CompletionStage<Void> record(String orgId, String ecid, ConsentRecord record) {
        return record(orgId, ecid, record, "-");
    }

    /** As {@link #record(String, String, ConsentRecord)}, for the request {@code requestId}. */
    public CompletionStage<Void> record(String orgId, String ecid, ConsentRecord record, String requestId) {
        return run(requestId, () -> {
            if (cache == null) {
                store.put(orgId, ecid, ConsentRecord.STATE_KEY, record.toJson());
            } else {
                synchronized (storeLock) {
                    try {
                        store.put(orgId, ecid, ConsentRecord.STATE_KEY, record.toJson());
                    } catch (RuntimeException e) {
                        // Unknown whether the write landed: the next lookup asks the store.
                        cache.remove(cacheKey(orgId, ecid));
                        throw e;
                    }
                    cache.put(cacheKey(orgId, ecid), record);
                }
            }
            return null;
        });
    }

    private <T> CompletionStage<T> run(String requestId, Supplier<T> work) {
        CompletableFuture<T> done = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                try {
                    done.complete(work.get());
                } catch (RuntimeException e) {
                    log.warn("requestId={} identity state store failed: {}", requestId, e.getMessage());
                    done.completeExceptionally(EdgeProblem.unavailable(
                            "The edge cannot read or record consent now. Retry later.", retryAfterSeconds));
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new EdgeProblem(EdgeError.SERVICE_UNAVAILABLE,
                    "The edge is busy recording consent. Retry later with the same requestId.",
                    Map.of(), List.of(), retryAfterSeconds));
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
