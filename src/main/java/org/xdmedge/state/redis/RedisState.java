package org.xdmedge.state.redis;

import java.net.URI;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.JedisPooled;

/**
 * The one Redis connection pool of a node, shared by the dedup ledger and the identity state store,
 * plus a health flag kept fresh by a background PING (so {@code /ready} never waits on Redis).
 */
public final class RedisState implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisState.class);
    private final JedisPooled jedis;
    private final String keyPrefix;
    private final ScheduledExecutorService pinger;
    private volatile boolean healthy;

    public RedisState(String url, int timeoutMillis, String keyPrefix) {
        this.jedis = new JedisPooled(URI.create(url), timeoutMillis);
        this.keyPrefix = keyPrefix;
        this.pinger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "redis-health");
            t.setDaemon(true);
            return t;
        });
        ping();
        pinger.scheduleWithFixedDelay(this::ping, 1, 1, TimeUnit.SECONDS);
    }

    private void ping() {
        boolean ok;
        try {
            ok = "PONG".equals(jedis.ping());
        } catch (RuntimeException e) {
            ok = false;
            if (healthy) {
                log.warn("Redis is not answering: {}", e.getMessage());
            }
        }
        if (ok && !healthy) {
            log.info("Redis is answering");
        }
        healthy = ok;
    }

    JedisPooled jedis() {
        return jedis;
    }

    String key(String... parts) {
        return keyPrefix + String.join(":", parts);
    }

    /** A call failed: report unhealthy until the next PING succeeds. */
    void failed() {
        healthy = false;
    }

    public boolean healthy() {
        return healthy;
    }

    @Override
    public void close() {
        pinger.shutdownNow();
        jedis.close();
    }
}
