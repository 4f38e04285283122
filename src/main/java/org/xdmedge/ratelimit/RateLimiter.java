package org.xdmedge.ratelimit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.RateLimitConfig;

/**
 * Token buckets per organization and per datastream. There is one bucket per key for the whole
 * process, shared by every event loop and connection, so opening more connections buys no more
 * requests. Taking a token is a lock-free compare-and-set (bucket4j's local buckets): cheap enough
 * for the event loop.
 */
public final class RateLimiter {
    private final Map<String, Bucket> organizations;
    private final Map<String, Bucket> datastreams;

    /** What one request got: {@code remaining} is -1 when no limit applies. */
    public record Decision(boolean allowed, long remaining, int retryAfterSeconds, String limit) {
        static final Decision UNLIMITED = new Decision(true, -1, 0, null);
    }

    public RateLimiter(EdgeConfig config) {
        Map<String, Bucket> orgs = new HashMap<>();
        for (var org : config.organizations()) {
            if (org.rateLimit() != null) {
                orgs.put(org.id(), bucket(org.rateLimit()));
            }
        }
        Map<String, Bucket> streams = new HashMap<>();
        for (var ds : config.datastreams()) {
            if (ds.rateLimit() != null) {
                streams.put(ds.id(), bucket(ds.rateLimit()));
            }
        }
        this.organizations = Map.copyOf(orgs);
        this.datastreams = Map.copyOf(streams);
    }

    /** No limits at all. */
    public static RateLimiter unlimited() {
        return new RateLimiter(new EdgeConfig(null, null, null, null));
    }

    /**
     * Takes one token from the datastream's bucket and one from its organization's. When the second
     * refuses, the first is given back, so a refused request costs nothing.
     */
    public Decision acquire(String orgId, String datastreamId) {
        Bucket ds = datastreams.get(datastreamId);
        Bucket org = organizations.get(orgId);
        long remaining = Long.MAX_VALUE;
        if (ds != null) {
            ConsumptionProbe probe = ds.tryConsumeAndReturnRemaining(1);
            if (!probe.isConsumed()) {
                return refused(probe, "datastream");
            }
            remaining = probe.getRemainingTokens();
        }
        if (org != null) {
            ConsumptionProbe probe = org.tryConsumeAndReturnRemaining(1);
            if (!probe.isConsumed()) {
                if (ds != null) {
                    ds.addTokens(1);
                }
                return refused(probe, "organization");
            }
            remaining = Math.min(remaining, probe.getRemainingTokens());
        }
        return remaining == Long.MAX_VALUE ? Decision.UNLIMITED : new Decision(true, remaining, 0, null);
    }

    private static Decision refused(ConsumptionProbe probe, String limit) {
        long seconds = (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L;
        return new Decision(false, 0, (int) Math.max(1, Math.min(Integer.MAX_VALUE, seconds)), limit);
    }

    /** Refills one token every 1/rate seconds (greedily, so tokens trickle in) up to {@code burst}. */
    static Bucket bucket(RateLimitConfig config) {
        long nanosPerToken = Math.max(1, Math.round(1_000_000_000d / config.requestsPerSecond()));
        return Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(config.burst()).refillGreedy(1, Duration.ofNanos(nanosPerToken)).build())
                .build();
    }
}
