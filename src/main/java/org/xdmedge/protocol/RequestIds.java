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
        String base = callerId == null ? UUID.randomUUID().toString() : callerId;
        return base + "-" + String.format("%016x", ThreadLocalRandom.current().nextLong());
    }
}
