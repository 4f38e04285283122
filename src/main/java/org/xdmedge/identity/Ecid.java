package org.xdmedge.identity;

import java.nio.ByteBuffer;
import java.security.SecureRandom;

/**
 * Experience Cloud IDs: 38 decimal digits, two unsigned 63-bit halves of 19 digits each, as Adobe
 * mints them. Leading zeros are part of the id.
 */
public final class Ecid {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ecid() {}

    public static String mint() {
        // One draw of 16 bytes, not two nextLong() calls: each call takes the generator's lock and
        // mixes its own output, on every new visitor.
        byte[] random = new byte[16];
        RANDOM.nextBytes(random);
        ByteBuffer halves = ByteBuffer.wrap(random);
        return fromHalves(halves.getLong(0), halves.getLong(8));
    }

    /** An ECID from two 64-bit values (the sign bit is dropped so each half fits 19 digits). */
    public static String fromHalves(long high, long low) {
        // Not String.format: it was the largest single cost of answering a new visitor.
        char[] digits = new char[38];
        writeDigits(high & Long.MAX_VALUE, digits, 19);
        writeDigits(low & Long.MAX_VALUE, digits, 38);
        return new String(digits);
    }

    /** Writes {@code value} as 19 zero-padded decimal digits ending just before {@code end}. */
    private static void writeDigits(long value, char[] out, int end) {
        for (int i = end - 1; i >= end - 19; i--) {
            out[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    /** 38 ASCII digits. A loop, not a regex: it runs for every identity of every request. */
    public static boolean isValid(String value) {
        if (value == null || value.length() != 38) {
            return false;
        }
        for (int i = 0; i < 38; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }
}
