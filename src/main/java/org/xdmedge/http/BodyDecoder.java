package org.xdmedge.http;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;

/** Undoes {@code Content-Encoding}, never producing more than the body limit. */
final class BodyDecoder {
    private BodyDecoder() {}

    static byte[] decode(byte[] raw, String contentEncoding, int limit) {
        String encoding = contentEncoding == null ? "identity" : contentEncoding.trim().toLowerCase(Locale.ROOT);
        switch (encoding) {
            case "", "identity":
                return raw;
            case "gzip", "x-gzip":
                return inflate(raw, limit, true);
            case "deflate":
                return inflate(raw, limit, false);
            default:
                throw new EdgeProblem(EdgeError.UNSUPPORTED_CONTENT_TYPE,
                        "Content-Encoding '" + shorten(encoding) + "' is not supported; use gzip, deflate or none.");
        }
    }

    private static byte[] inflate(byte[] raw, int limit, boolean gzip) {
        try (InputStream in = gzip ? new GZIPInputStream(new ByteArrayInputStream(raw))
                : new InflaterInputStream(new ByteArrayInputStream(raw))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(limit, raw.length * 4 + 64));
            byte[] chunk = new byte[8192];
            int n;
            while ((n = in.read(chunk)) > 0) {
                if (out.size() + n > limit) {
                    throw tooLarge(limit);
                }
                out.write(chunk, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new EdgeProblem(EdgeError.INVALID_JSON, "The request body is not valid " + (gzip ? "gzip" : "deflate")
                    + " data: " + e.getMessage());
        }
    }

    static EdgeProblem tooLarge(int limit) {
        return new EdgeProblem(EdgeError.BODY_TOO_LARGE,
                "The request body exceeds the limit of " + limit + " bytes; split the events over several requests.");
    }

    static String shorten(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "…" : s;
    }
}
