package org.xdmedge.protocol;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Request ids: the answer's id is the caller's id (or a new UUID) followed by {@code -} and 16
 * random hex digits, so retries with the same caller id stay distinguishable in logs.
 */
public final class RequestIds {
    private static final Pattern CALLER_ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

    private RequestIds() {}

    public static boolean validCallerId(String callerId) {
        return callerId != null && CALLER_ID.matcher(callerId).matches();
    }

    /** The answer id for a valid caller id (null when the caller sent none). */
    public static String answerId(String callerId) {
        // ThreadLocalRandom, not UUID.randomUUID(): request ids are labels, not secrets, and
        // SecureRandom plus String.format cost more than the rest of a small request's bookkeeping.
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String base = callerId;
        if (base == null) {
            long msb = (random.nextLong() & ~0xF000L) | 0x4000L;
            long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
            base = new UUID(msb, lsb).toString();
        }
        String suffix = Long.toHexString(random.nextLong());
        return base + "-" + "0000000000000000".substring(suffix.length()) + suffix;
    }
}
