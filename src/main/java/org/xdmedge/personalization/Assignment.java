package org.xdmedge.personalization;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deterministic assignment: a visitor's bucket in an activity is a keyed hash of the activity id
 * and the ECID, so every node, before and after a restart, puts the same visitor in the same
 * experience without sharing any state.
 */
public final class Assignment {
    public static final int BUCKETS = 10_000;

    private Assignment() {}

    /** One digest per thread: a request's assignments make no garbage beyond the digest's result. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    });

    /** The visitor's bucket in [0, {@value #BUCKETS}): the first 8 bytes of SHA-256(activityId '\n' ecid). */
    public static int bucket(String activityId, String ecid) {
        return bucket(key(activityId), ecid);
    }

    /** An activity's part of the hashed text, made once per activity: its id's UTF-8 bytes and '\n'. */
    static byte[] key(String activityId) {
        return (activityId + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** {@link #bucket(String, String)} with the activity's {@link #key}. */
    static int bucket(byte[] activityKey, String ecid) {
        MessageDigest sha = SHA_256.get();
        sha.update(activityKey);
        byte[] d = sha.digest(ecid.getBytes(StandardCharsets.UTF_8));
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (d[i] & 0xFF);
        }
        return (int) Long.remainderUnsigned(v, BUCKETS);
    }

    /**
     * The index of the experience whose share holds the bucket; {@code weights} are percentages that
     * add up to 100 (each percent is 100 buckets).
     */
    public static int pick(int bucket, int[] weights) {
        int upper = 0;
        for (int i = 0; i < weights.length; i++) {
            upper += weights[i] * (BUCKETS / 100);
            if (bucket < upper) {
                return i;
            }
        }
        return weights.length - 1;
    }
}
