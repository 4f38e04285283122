package org.xdmedge.privacy;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Merges two JSON Lines files whose lines are in ascending order of the sequence numbers given
 * beside them into one file in that order. A JSON line holds no raw newline, so lines are copied
 * as bytes up to each {@code '\n'}.
 */
final class DownloadMerge {
    private DownloadMerge() {}

    static void merge(Path a, long[] aSeqs, Path b, long[] bSeqs, Path into) throws IOException {
        try (InputStream inA = new BufferedInputStream(Files.newInputStream(a), 1 << 16);
             InputStream inB = new BufferedInputStream(Files.newInputStream(b), 1 << 16);
             OutputStream out = new BufferedOutputStream(Files.newOutputStream(into), 1 << 16)) {
            int i = 0;
            int j = 0;
            while (i < aSeqs.length || j < bSeqs.length) {
                if (j == bSeqs.length || (i < aSeqs.length && aSeqs[i] < bSeqs[j])) {
                    copyLine(inA, out);
                    i++;
                } else {
                    copyLine(inB, out);
                    j++;
                }
            }
        }
    }

    private static void copyLine(InputStream in, OutputStream out) throws IOException {
        int c;
        while ((c = in.read()) >= 0) {
            out.write(c);
            if (c == '\n') {
                return;
            }
        }
        throw new IOException("a download's part ended before its last line");
    }
}
