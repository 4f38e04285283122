package org.xdmedge.identity;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * Experience Cloud IDs: 38 decimal digits, two unsigned 63-bit halves of 19 digits each, as Adobe
 * mints them. Leading zeros are part of the id.
 */
public final class Ecid {
    private static final Pattern FORMAT = Pattern.compile("[0-9]{38}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ecid() {}

    public static String mint() {
        return fromHalves(RANDOM.nextLong(), RANDOM.nextLong());
    }

    /** An ECID from two 64-bit values (the sign bit is dropped so each half fits 19 digits). */
    public static String fromHalves(long high, long low) {
        return String.format("%019d%019d", high & Long.MAX_VALUE, low & Long.MAX_VALUE);
    }

    public static boolean isValid(String value) {
        return value != null && FORMAT.matcher(value).matches();
    }
}
