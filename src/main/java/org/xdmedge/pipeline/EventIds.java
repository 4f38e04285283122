package org.xdmedge.pipeline;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Event ids the edge makes up for events that came without {@code xdm._id}: UUID version 7 (RFC
 * 9562), a millisecond timestamp followed by 74 random bits. Time-ordered keys land at the end of
 * the store's event-id index ({@code store.EventIdIndex}), so a group commit dirties a few index
 * pages instead of one per event, as random ids do.
 */
final class EventIds {
    /** The last timestamp written: under load many events share a millisecond. */
    private static volatile Formatted lastTimestamp = new Formatted(Long.MIN_VALUE, "");

    private record Formatted(long millis, String text) {}

    private EventIds() {}

    /** {@code Instant.ofEpochMilli(millis).toString()}, formatted once per millisecond (a few µs each). */
    static String isoTimestamp(long millis) {
        Formatted last = lastTimestamp;
        if (last.millis() == millis) {
            return last.text();
        }
        String text = Instant.ofEpochMilli(millis).toString();
        lastTimestamp = new Formatted(millis, text);
        return text;
    }

    static String timeOrdered(long epochMillis) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long msb = (epochMillis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
        long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }
}
