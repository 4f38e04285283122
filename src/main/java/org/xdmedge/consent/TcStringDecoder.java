package org.xdmedge.consent;

import java.time.Instant;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

/**
 * Decodes the core segment of an IAB TCF 2.x TC string: base64url (no padding) of a big-endian bit
 * string whose fields sit at fixed offsets up to the vendor consent section, which is either a bit
 * field or a list of ranges. Segments after the first {@code .} (disclosed vendors, publisher TC)
 * are not needed to decide consent and are skipped.
 */
public final class TcStringDecoder {
    /** Far above any real TC string; bounds the work one request can cause. */
    public static final int MAX_LENGTH = 16_384;

    private TcStringDecoder() {}

    /** Why a TC string cannot be read; the message says what is wrong with it. */
    public static final class InvalidTcStringException extends IllegalArgumentException {
        InvalidTcStringException(String message) {
            super(message, null);
        }
    }

    public static TcString decode(String tcString) {
        if (tcString == null || tcString.isEmpty()) {
            throw new InvalidTcStringException("the TC string is empty");
        }
        if (tcString.length() > MAX_LENGTH) {
            throw new InvalidTcStringException("the TC string is longer than " + MAX_LENGTH + " characters");
        }
        int dot = tcString.indexOf('.');
        String core = dot < 0 ? tcString : tcString.substring(0, dot);
        byte[] bytes;
        try {
            String normalized = core.replace('+', '-').replace('/', '_');
            int pad = normalized.indexOf('=');
            bytes = Base64.getUrlDecoder().decode(pad < 0 ? normalized : normalized.substring(0, pad));
        } catch (IllegalArgumentException e) {
            throw new InvalidTcStringException("the TC string is not base64url: " + e.getMessage());
        }
        Bits in = new Bits(bytes);
        int version = in.integer(6);
        if (version != 2) {
            throw new InvalidTcStringException("TC string version " + version + " is not supported; TCF 2.x strings have version 2");
        }
        Instant created = Instant.ofEpochMilli(in.longInteger(36) * 100);
        Instant lastUpdated = Instant.ofEpochMilli(in.longInteger(36) * 100);
        int cmpId = in.integer(12);
        int cmpVersion = in.integer(12);
        int consentScreen = in.integer(6);
        String language = in.letters(2);
        int vendorListVersion = in.integer(12);
        int policyVersion = in.integer(6);
        boolean serviceSpecific = in.flag();
        boolean nonStandardTexts = in.flag();
        Set<Integer> specialFeatures = in.bitField(12);
        Set<Integer> purposes = in.bitField(24);
        Set<Integer> legitimateInterest = in.bitField(24);
        boolean purposeOneTreatment = in.flag();
        String country = in.letters(2);

        int maxVendorId = in.integer(16);
        boolean range = in.flag();
        BitSet vendors = new BitSet(maxVendorId + 1);
        if (!range) {
            for (int v = 1; v <= maxVendorId; v++) {
                if (in.flag()) {
                    vendors.set(v);
                }
            }
        } else {
            int entries = in.integer(12);
            for (int i = 0; i < entries; i++) {
                boolean isRange = in.flag();
                int start = in.integer(16);
                int end = isRange ? in.integer(16) : start;
                if (start < 1 || end < start || end > maxVendorId) {
                    throw new InvalidTcStringException("vendor range entry " + i + " (" + start + "-" + end
                            + ") is outside 1.." + maxVendorId);
                }
                vendors.set(start, end + 1);
            }
        }
        return new TcString(version, created, lastUpdated, cmpId, cmpVersion, consentScreen, language,
                vendorListVersion, policyVersion, serviceSpecific, nonStandardTexts, specialFeatures, purposes,
                legitimateInterest, purposeOneTreatment, country, maxVendorId, vendors, range);
    }

    /** A big-endian bit reader that refuses to run past the end. */
    private static final class Bits {
        private final byte[] bytes;
        private int position;

        Bits(byte[] bytes) {
            this.bytes = bytes;
        }

        boolean flag() {
            if (position >= bytes.length * 8) {
                throw new InvalidTcStringException("the TC string ends early, at bit " + position);
            }
            int bit = (bytes[position >> 3] >> (7 - (position & 7))) & 1;
            position++;
            return bit == 1;
        }

        long longInteger(int width) {
            long value = 0;
            for (int i = 0; i < width; i++) {
                value = (value << 1) | (flag() ? 1 : 0);
            }
            return value;
        }

        int integer(int width) {
            return (int) longInteger(width);
        }

        /** Letters as 6-bit numbers, A = 0. */
        String letters(int count) {
            StringBuilder out = new StringBuilder(count);
            for (int i = 0; i < count; i++) {
                int letter = integer(6);
                if (letter > 25) {
                    throw new InvalidTcStringException("a letter field holds " + letter + ", beyond Z");
                }
                out.append((char) ('A' + letter));
            }
            return out.toString();
        }

        /** A field of {@code width} bits where bit i (from 0) stands for number i + 1. */
        Set<Integer> bitField(int width) {
            Set<Integer> set = new HashSet<>();
            for (int i = 1; i <= width; i++) {
                if (flag()) {
                    set.add(i);
                }
            }
            return set;
        }
    }
}
