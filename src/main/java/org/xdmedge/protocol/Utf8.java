package org.xdmedge.protocol;

/**
 * Well-formed UTF-8 (RFC 3629): no overlong forms, no encoded surrogates, nothing above U+10FFFF.
 * Jackson decodes some malformed sequences without complaint, so what copies client bytes checks
 * them here.
 */
public final class Utf8 {
    private Utf8() {}

    /**
     * The index after the multi-byte sequence whose lead byte is at {@code i} (a byte of 0x80 or
     * more), or -1 if it is not well formed or runs past {@code end}.
     */
    public static int sequenceEnd(byte[] b, int i, int end) {
        int c = b[i] & 0xff;
        int more;
        int lo = 0x80;
        int hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0) {
                lo = 0xa0; // shorter forms are overlong
            } else if (c == 0xed) {
                hi = 0x9f; // above are surrogates
            }
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0) {
                lo = 0x90; // overlong
            } else if (c == 0xf4) {
                hi = 0x8f; // above U+10FFFF
            }
        } else {
            return -1;
        }
        if (i + more >= end) {
            return -1;
        }
        int second = b[i + 1] & 0xff;
        if (second < lo || second > hi) {
            return -1;
        }
        for (int k = i + 2; k <= i + more; k++) {
            if ((b[k] & 0xc0) != 0x80) {
                return -1;
            }
        }
        return i + more + 1;
    }

    /** The index of the first byte from {@code start} that does not begin a well-formed character before {@code end}, or -1. */
    public static int firstMalformed(byte[] b, int start, int end) {
        int i = start;
        while (true) {
            i = AsciiRuns.runEnd(b, i, end, (byte) 0x80, (byte) 0x80, false); // stops at any byte of 0x80 or more
            if (i >= end) {
                return -1;
            }
            int next = sequenceEnd(b, i, end);
            if (next < 0) {
                return i;
            }
            i = next;
        }
    }

    /**
     * The malformed sequence at {@code i} (where {@link #sequenceEnd} gave -1) in words, with its
     * bytes (the byte at {@code i} and the continuation bytes after it, four at most) and offset.
     */
    public static String describeMalformed(byte[] b, int i, int end) {
        int c = b[i] & 0xff;
        int second = i + 1 < end ? b[i + 1] & 0xff : -1;
        boolean continued = (second & 0xc0) == 0x80;
        String what;
        if (c < 0xc0) {
            what = "a continuation byte without a lead byte";
        } else if (c <= 0xc1 || (c == 0xe0 && continued && second < 0xa0) || (c == 0xf0 && continued && second < 0x90)) {
            what = "an overlong encoding";
        } else if (c == 0xed && continued && second >= 0xa0) {
            what = "an encoded UTF-16 surrogate";
        } else if ((c == 0xf4 && continued && second >= 0x90) || (c >= 0xf5 && c <= 0xf7)) {
            what = "a code point above U+10FFFF";
        } else if (c >= 0xf8) {
            what = "a byte UTF-8 never uses";
        } else {
            what = "a truncated sequence";
        }
        StringBuilder bytes = new StringBuilder();
        int k = i;
        for (; k < end && k < i + 4 && (k == i || (b[k] & 0xc0) == 0x80); k++) {
            bytes.append(k == i ? "" : " ").append(String.format("%02X", b[k] & 0xff));
        }
        return what + ", " + (k - i == 1 ? "byte " : "bytes ") + bytes + " at offset " + i;
    }
}
