package org.xdmedge.config;

import java.util.Map;

/**
 * {@code destinations[]}: where stored events are forwarded. {@code headers} and
 * {@code signingSecret} may name environment variables as {@code ${env:NAME}}, read at start-up.
 */
public record DestinationConfig(String id, String type, String url, Map<String, String> headers, String signingSecret,
                                Batch batch, Retry retry, Integer timeoutMs) {
    public static final String HTTP = "http";

    public DestinationConfig {
        type = type == null ? HTTP : type;
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        batch = batch == null ? new Batch(null, null) : batch;
        retry = retry == null ? new Retry(null, null, null, null) : retry;
        timeoutMs = timeoutMs == null ? 5000 : timeoutMs;
    }

    /** {@code batch}: at most {@code maxEvents} per request; a smaller batch waits up to {@code maxDelayMs} to fill. */
    public record Batch(Integer maxEvents, Integer maxDelayMs) {
        public Batch {
            maxEvents = maxEvents == null ? 100 : maxEvents;
            maxDelayMs = maxDelayMs == null ? 500 : maxDelayMs;
        }
    }

    /**
     * {@code retry}: a batch is tried up to {@code maxAttempts} times, and no longer once its oldest
     * event was received {@code maxAgeHours} ago; waits double from {@code initialBackoffMs} up to
     * {@code maxBackoffMs}, each drawn at random below its bound.
     */
    public record Retry(Integer maxAttempts, Integer maxAgeHours, Integer initialBackoffMs, Integer maxBackoffMs) {
        public Retry {
            maxAttempts = maxAttempts == null ? 12 : maxAttempts;
            maxAgeHours = maxAgeHours == null ? 24 : maxAgeHours;
            initialBackoffMs = initialBackoffMs == null ? 1000 : initialBackoffMs;
            maxBackoffMs = maxBackoffMs == null ? 300_000 : maxBackoffMs;
        }
    }
}
