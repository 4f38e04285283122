package org.xdmedge.protocol;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Where a run of plain ASCII ends in a byte array, read eight bytes at a time: what the scan of
 * strings and the check of copied event bytes share. Nearly all of an event is such a run.
 */
public final class AsciiRuns {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long CONTROLS = ONES * 0x20;

    private AsciiRuns() {}

    /**
     * The index of the first byte from {@code i} that is 0x80 or more, {@code stop} or
     * {@code otherStop}, or (if {@code controls}) below 0x20; {@code end} if none. In each word's
     * masks a byte's high bit may also be set by a borrow, but only from a lower byte that matched,
     * so the lowest bit set is always the first byte that matched.
     */
    public static int runEnd(byte[] b, int i, int end, byte stop, byte otherStop, boolean controls) {
        final long stops = ONES * (stop & 0xff);
        final long otherStops = ONES * (otherStop & 0xff);
        while (i + 8 <= end) {
            long word = (long) LONGS.get(b, i);
            long found = word | zeroBytes(word ^ stops) | zeroBytes(word ^ otherStops);
            if (controls) {
                found |= (word - CONTROLS) & ~word;
            }
            found &= HIGH_BITS;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
            i += 8;
        }
        while (i < end) {
            byte c = b[i];
            if (c < 0 || c == stop || c == otherStop || (controls && c < 0x20)) {
                return i;
            }
            i++;
        }
        return end;
    }

    /** The high bit set in each zero byte of {@code word} (and maybe in bytes above the lowest one); the other bits are for the caller to mask off. */
    private static long zeroBytes(long word) {
        return (word - ONES) & ~word;
    }
}
