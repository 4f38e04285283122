package org.xdmedge.consent;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * Builds IAB TCF 2.x core strings field by field, independently of the decoder, so tests can say
 * exactly which purposes and vendors a string grants.
 */
public final class TcStrings {
    private TcStrings() {}

    /** A vendor range {@code [start, end]}; a single vendor has start == end. */
    public record Range(int start, int end) {}

    public static String bitField(Set<Integer> purposes, int maxVendorId, Set<Integer> vendors) {
        Writer w = header(2, purposes);
        w.bits(maxVendorId, 16);
        w.bits(0, 1);
        for (int v = 1; v <= maxVendorId; v++) {
            w.bits(vendors.contains(v) ? 1 : 0, 1);
        }
        return trailer(w);
    }

    public static String ranges(Set<Integer> purposes, int maxVendorId, List<Range> ranges) {
        Writer w = header(2, purposes);
        w.bits(maxVendorId, 16);
        w.bits(1, 1);
        w.bits(ranges.size(), 12);
        for (Range r : ranges) {
            boolean isRange = r.start() != r.end();
            w.bits(isRange ? 1 : 0, 1);
            w.bits(r.start(), 16);
            if (isRange) {
                w.bits(r.end(), 16);
            }
        }
        return trailer(w);
    }

    public static String withVersion(int version, Set<Integer> purposes) {
        Writer w = header(version, purposes);
        w.bits(0, 16);
        w.bits(0, 1);
        return trailer(w);
    }

    public static final Instant CREATED = Instant.parse("2020-05-04T10:20:30.400Z");
    public static final Instant UPDATED = Instant.parse("2021-01-02T03:04:05.600Z");

    private static Writer header(int version, Set<Integer> purposes) {
        Writer w = new Writer();
        w.bits(version, 6);
        w.bits(CREATED.toEpochMilli() / 100, 36);
        w.bits(UPDATED.toEpochMilli() / 100, 36);
        w.bits(7, 12);       // CMP id
        w.bits(3, 12);       // CMP version
        w.bits(1, 6);        // consent screen
        w.bits('F' - 'A', 6);
        w.bits('R' - 'A', 6);
        w.bits(48, 12);      // vendor list version
        w.bits(2, 6);        // policy version
        w.bits(1, 1);        // service specific
        w.bits(0, 1);        // non-standard texts
        w.bits(0b101000000000, 12); // special features 1 and 3
        for (int p = 1; p <= 24; p++) {
            w.bits(purposes.contains(p) ? 1 : 0, 1);
        }
        for (int p = 1; p <= 24; p++) {
            w.bits(p == 2 || p == 7 ? 1 : 0, 1); // legitimate interest for purposes 2 and 7
        }
        w.bits(0, 1);        // purpose one treatment
        w.bits('D' - 'A', 6);
        w.bits('E' - 'A', 6);
        return w;
    }

    private static String trailer(Writer w) {
        // The vendor legitimate-interest section and publisher restrictions, both empty.
        w.bits(0, 16);
        w.bits(0, 1);
        w.bits(0, 12);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(w.bytes());
    }

    /** Big-endian bit writer. */
    private static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int current;
        private int used;

        void bits(long value, int width) {
            for (int i = width - 1; i >= 0; i--) {
                current = (current << 1) | (int) ((value >> i) & 1);
                if (++used == 8) {
                    out.write(current);
                    current = 0;
                    used = 0;
                }
            }
        }

        byte[] bytes() {
            if (used > 0) {
                out.write(current << (8 - used));
                current = 0;
                used = 0;
            }
            return out.toByteArray();
        }
    }
}
