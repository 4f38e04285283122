package org.xdmedge.state.redis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.xdmedge.outlet.EventIdLedger;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.SetParams;

/**
 * {@link EventIdLedger} shared by all nodes: one Redis key per event id. A claim is
 * {@code SET key P:<owner>:<claimed at>:<writer tag> NX PX <ttl>}; a confirm overwrites it with
 * {@code D} for the dedup window; a release deletes it only if this process still holds it. Each
 * call is one pipelined round trip.
 *
 * <p>Each process renews a lease key {@code node:<owner>} every second ({@link #LEASE_MILLIS});
 * a claim whose owner's lease is gone belongs to a process that died or lost Redis. A claim with
 * a writer tag lives for the dedup window (a retry settles it from the outlet's log); one without
 * runs out after the pending time.
 */
public final class RedisEventIdLedger implements EventIdLedger {
    /** How long a process's lease outlives its last renewal. */
    public static final long LEASE_MILLIS = 3000;
    private static final String STORED = "D";
    private static final String RELEASE = "local v = redis.call('GET', KEYS[1]) "
            + "if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    private static final String SETTLE_STORED = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "return redis.call('SET', KEYS[1], 'D', 'PX', ARGV[2]) else return 0 end";
    private static final String SETTLE_ABSENT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    private final RedisState redis;
    private final long windowMillis;
    private final long pendingMillis;
    private final String ownerId = UUID.randomUUID().toString();
    private final String owner = "P:" + ownerId + ":";
    private final ScheduledExecutorService lease;

    public RedisEventIdLedger(RedisState redis, long windowMillis, long pendingMillis) {
        this.redis = redis;
        this.windowMillis = windowMillis;
        this.pendingMillis = pendingMillis;
        this.lease = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dedup-lease");
            t.setDaemon(true);
            return t;
        });
        renewLease();
        lease.scheduleWithFixedDelay(this::renewLease, 1000, 1000, TimeUnit.MILLISECONDS);
    }

    private void renewLease() {
        try {
            redis.jedis().set(redis.key("node", ownerId), "1", SetParams.setParams().px(LEASE_MILLIS));
        } catch (RuntimeException e) {
            // The health PING reports Redis trouble; a lapsed lease only lets others settle our claims from the log.
        }
    }

    private String redisKey(String key) {
        return redis.key("dedup", key);
    }

    @Override
    public List<Claim> claim(List<String> keys) {
        return claim(keys, null);
    }

    @Override
    public List<Claim> claim(List<String> keys, String writerTag) {
        String value = owner + System.currentTimeMillis() + ":" + (writerTag == null ? "" : writerTag);
        // A claim a retry can settle from the log must not run out before one does: that would republish blindly.
        long ttl = writerTag == null ? pendingMillis : Math.max(pendingMillis, windowMillis);
        try {
            List<Response<String>> set = new ArrayList<>(keys.size());
            List<Response<String>> current = new ArrayList<>(keys.size());
            try (AbstractPipeline p = redis.jedis().pipelined()) {
                for (String key : keys) {
                    set.add(p.set(redisKey(key), value, SetParams.setParams().nx().px(ttl)));
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
    public Map<String, Holder> holders(List<String> keys) {
        try {
            List<Response<String>> values = new ArrayList<>(keys.size());
            try (AbstractPipeline p = redis.jedis().pipelined()) {
                for (String key : keys) {
                    values.add(p.get(redisKey(key)));
                }
                p.sync();
            }
            Map<String, String[]> held = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                String v = values.get(i).get();
                if (v != null && v.startsWith("P:")) {
                    // P:<owner>:<claimed at>:<writer tag>; the tag may itself hold colons.
                    String[] parts = v.split(":", 4);
                    if (parts.length == 4 && !parts[3].isEmpty()) {
                        held.put(keys.get(i), new String[] {v, parts[1], parts[2], parts[3]});
                    }
                }
            }
            Map<String, Response<Boolean>> leases = new HashMap<>();
            try (AbstractPipeline p = redis.jedis().pipelined()) {
                for (String[] h : held.values()) {
                    leases.computeIfAbsent(h[1], o -> p.exists(redis.key("node", o)));
                }
                p.sync();
            }
            Map<String, Holder> out = new LinkedHashMap<>();
            held.forEach((key, h) -> {
                long claimedAt;
                try {
                    claimedAt = Long.parseLong(h[2]);
                } catch (NumberFormatException e) {
                    return;
                }
                out.put(key, new Holder(h[0], claimedAt, h[3], leases.get(h[1]).get()));
            });
            return out;
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("Redis dedup read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void settle(Map<String, Holder> stored, Map<String, Holder> absent) {
        if (stored.isEmpty() && absent.isEmpty()) {
            return;
        }
        try (AbstractPipeline p = redis.jedis().pipelined()) {
            stored.forEach((key, h) -> p.eval(SETTLE_STORED, List.of(redisKey(key)), List.of(h.value(), Long.toString(windowMillis))));
            absent.forEach((key, h) -> p.eval(SETTLE_ABSENT, List.of(redisKey(key)), List.of(h.value())));
            p.sync();
        } catch (RuntimeException e) {
            redis.failed();
            throw new IllegalStateException("Redis dedup settle failed: " + e.getMessage(), e);
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

    /** Ends the lease (the connection pool belongs to {@link RedisState}). */
    @Override
    public void close() {
        lease.shutdownNow();
        try {
            redis.jedis().del(redis.key("node", ownerId));
        } catch (RuntimeException e) {
            // the lease runs out by itself
        }
    }
}
