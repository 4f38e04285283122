package org.xdmedge.state;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventIdLedger;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.state.redis.RedisEventIdLedger;
import org.xdmedge.state.redis.RedisIdentityStateStore;
import org.xdmedge.state.redis.RedisState;

/**
 * State that must agree between requests and, with Redis, between nodes: the event id dedup ledger
 * and the per-identity state store. Redis when {@code state.redis} is configured, SQLite files in
 * the data directory otherwise. Owns the bounded pool that runs their blocking calls.
 */
public final class SharedState implements AutoCloseable {
    /** Threads for ledger calls; matches the Redis client's default pool of 8 connections. */
    static final int BLOCKING_THREADS = 8;
    private final RedisState redis;
    private final EventIdLedger ledger;
    private final IdentityStateStore identityState;
    private final ExecutorService blockingCalls;
    private final ScheduledExecutorService timer;
    private final long pendingMillis;

    private SharedState(RedisState redis, EventIdLedger ledger, IdentityStateStore identityState, long pendingMillis) {
        this.redis = redis;
        this.pendingMillis = pendingMillis;
        this.ledger = ledger;
        this.identityState = identityState;
        AtomicInteger n = new AtomicInteger();
        // Core = max: a ThreadPoolExecutor only grows past its core size once the queue is full, so a
        // smaller core would serialize every Redis round trip on one thread.
        ThreadPoolExecutor pool = new ThreadPoolExecutor(BLOCKING_THREADS, BLOCKING_THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(8192), r -> {
                    Thread t = new Thread(r, "state-calls-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.blockingCalls = pool;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "response-timeouts");
            t.setDaemon(true);
            return t;
        });
    }

    public static SharedState open(EdgeConfig.StateConfig config, Path dataDir) throws SQLException {
        long window = TimeUnit.SECONDS.toMillis(config.dedup().windowSeconds());
        long pending = TimeUnit.SECONDS.toMillis(config.dedup().pendingSeconds());
        var r = config.redis();
        if (r == null) {
            SqliteEventIdLedger ledger = new SqliteEventIdLedger(dataDir, window, pending);
            try {
                return new SharedState(null, ledger, new SqliteIdentityStateStore(dataDir), pending);
            } catch (SQLException | RuntimeException e) {
                ledger.close();
                throw e;
            }
        }
        RedisState redis = new RedisState(r.url(), r.timeoutMs(), r.keyPrefix());
        return new SharedState(redis, new RedisEventIdLedger(redis, window, pending),
                new RedisIdentityStateStore(redis, TimeUnit.DAYS.toSeconds(r.identityStateTtlDays())), pending);
    }

    public boolean shared() {
        return redis != null;
    }

    public EventIdLedger ledger() {
        return ledger;
    }

    public IdentityStateStore identityState() {
        return identityState;
    }

    /** Wraps an outlet with the dedup ledger and a bound on the client's wait. */
    public EventSink dedup(EventSink outlet, long responseTimeoutMillis, int retryAfterSeconds) {
        return dedup(outlet, null, responseTimeoutMillis, retryAfterSeconds);
    }

    /** As {@link #dedup(EventSink, long, int)}; claims held by a write that never finished are settled from {@code settler}'s log. */
    public EventSink dedup(EventSink outlet, DedupingSink.Settler settler, long responseTimeoutMillis, int retryAfterSeconds) {
        return new DedupingSink(outlet, settler, pendingMillis, ledger, blockingCalls, timer, responseTimeoutMillis, retryAfterSeconds);
    }

    @Override
    public void close() {
        blockingCalls.shutdown();
        try {
            blockingCalls.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
        ledger.close();
        identityState.close();
        if (redis != null) {
            redis.close();
        }
    }
}
