package org.xdmedge.store.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.xdmedge.store.EventIdLedger;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.SetParams;

/**
 * {@link EventIdLedger} shared by all nodes: one Redis key per event id. A claim is
 * {@code SET key P:<owner> NX PX pending}; a confirm overwrites it with {@code D} for the dedup
 * window; a release deletes it only if this node still holds it. Each call is one pipelined round trip.
 */
public final class RedisEventIdLedger implements EventIdLedger {
    private static final String STORED = "D";
    private static final String RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    private final RedisState redis;
    private final long windowMillis;
    private final long pendingMillis;
    private final String owner = "P:" + UUID.randomUUID();

    public RedisEventIdLedger(RedisState redis, long windowMillis, long pendingMillis) {
        this.redis = redis;
        this.windowMillis = windowMillis;
        this.pendingMillis = pendingMillis;
    }

    private String redisKey(String key) {
        return redis.key("dedup", key);
    }

    @Override
    public List<Claim> claim(List<String> keys) {
        try {
            List<Response<String>> set = new ArrayList<>(keys.size());
            List<Response<String>> current = new ArrayList<>(keys.size());
            try (AbstractPipeline p = redis.jedis().pipelined()) {
                for (String key : keys) {
                    set.add(p.set(redisKey(key), owner, SetParams.setParams().nx().px(pendingMillis)));
                    current.add(p.get(redisKey(key)));
                }
                p.sync();
            }
            List<Claim> out = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                if ("OK".equals(set.get(i).get())) {
                    out.add(Claim.CLAIMED);
                } else {
                    out.add(STORED.equals(current.get(i).get()) ? Claim.STORED : Claim.IN_FLIGHT);
                }
            }
            return out;
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("Redis dedup claim failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void confirm(List<String> keys) {
        try (AbstractPipeline p = redis.jedis().pipelined()) {
            for (String key : keys) {
                p.set(redisKey(key), STORED, SetParams.setParams().px(windowMillis));
            }
            p.sync();
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("Redis dedup confirm failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void release(List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        try (AbstractPipeline p = redis.jedis().pipelined()) {
            for (String key : keys) {
                p.eval(RELEASE, List.of(redisKey(key)), List.of(owner));
            }
            p.sync();
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("Redis dedup release failed: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean ready() {
        return redis.healthy();
    }

    /** The connection pool belongs to {@link RedisState}. */
    @Override
    public void close() {}
}
