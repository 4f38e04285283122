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
}
