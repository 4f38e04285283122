package org.xdmedge.config;

/**
 * {@code forwarding:} settings shared by every destination. Retention keeps the segments a
 * destination has not passed until the event log takes more than {@code maxLagBytes} (unset: no
 * limit); past it, the oldest segments go anyway and their events become dead letters of the
 * destinations that had not sent them. {@code pollMs}: how often a destination that has caught up
 * looks for new events.
 */
public record ForwardingConfig(Long maxLagBytes, Integer pollMs) {
    public ForwardingConfig {
        maxLagBytes = maxLagBytes == null ? 0L : maxLagBytes;
        pollMs = pollMs == null ? 100 : pollMs;
    }
}
