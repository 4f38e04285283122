package org.xdmedge.state.redis;

import java.util.Optional;
import org.xdmedge.state.IdentityStateStore;
import redis.clients.jedis.AbstractPipeline;

/**
 * {@link IdentityStateStore} shared by all nodes: one Redis hash per (organization, ECID), one field
 * per state key (for example consent). Every write renews the hash's time to live, so state of an
 * identity that stopped coming back ends after {@code identityStateTtlDays}.
 */
public final class RedisIdentityStateStore implements IdentityStateStore {
    private final RedisState redis;
    private final long ttlSeconds;

    public RedisIdentityStateStore(RedisState redis, long ttlSeconds) {
        this.redis = redis;
        this.ttlSeconds = ttlSeconds;
    }

    private String hash(String orgId, String ecid) {
        return redis.key("identity", orgId, ecid);
    }

    @Override
    public Optional<String> get(String orgId, String ecid, String key) {
        try {
            return Optional.ofNullable(redis.jedis().hget(hash(orgId, ecid), key));
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("identity state read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void put(String orgId, String ecid, String key, String value) {
        try (AbstractPipeline p = redis.jedis().pipelined()) {
            String hash = hash(orgId, ecid);
            p.hset(hash, key, value);
            p.expire(hash, ttlSeconds);
            p.sync();
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("identity state write failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String orgId, String ecid) {
        try {
            redis.jedis().del(hash(orgId, ecid));
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("identity state delete failed: " + e.getMessage(), e);
        }
    }

    /** The connection pool belongs to {@link RedisState}. */
    @Override
    public void close() {}
}
