package org.xdmedge.config;

/**
 * {@code rateLimit:} a token bucket for an organization or a datastream. It refills continuously at
 * {@code requestsPerSecond} and holds at most {@code burst} requests (default: one second's worth,
 * at least 1).
 */
public record RateLimitConfig(Double requestsPerSecond, Integer burst) {
    public RateLimitConfig {
        if (burst == null && requestsPerSecond != null) {
            burst = (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(requestsPerSecond)));
        }
    }
}
