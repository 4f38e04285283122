package org.xdmedge.ops;

/**
 * Request-derived text made safe for one log line: control characters (CR and LF above all, which
 * would let a client write lines of its own), DEL, the Unicode line and paragraph separators and
 * the backslash are written as escapes, and long values are cut. Text that needs none of this is
 * returned as it is, without copying.
 */
public final class LogSafe {
    /** Enough for any id, path or header the edge logs; the rest is cut, with the length said. */
    static final int MAX_CHARS = 300;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private LogSafe() {}

    /** {@code value} as one line; {@code "-"} for null. */
    public static String text(Object value) {
        if (value == null) {
            return "-";
        }
        String s = value.toString();
        int limit = Math.min(s.length(), MAX_CHARS);
        int i = 0;
        while (i < limit && plain(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder out = new StringBuilder(limit + 16).append(s, 0, i);
        for (; i < limit; i++) {
            char c = s.charAt(i);
            if (plain(c)) {
                out.append(c);
            } else {
                switch (c) {
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\\' -> out.append("\\\\");
                    default -> out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xF])
                            .append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
                }
            }
        }
        if (s.length() > limit) {
            out.append("…(").append(s.length()).append(" chars)");
        }
        return out.toString();
    }

    /**
     * {@code failure} for a log line's stack trace: itself when no message in its cause chain needs
     * escaping (nearly always), else a stand-in with the same traces whose messages are escaped
     * (a message may quote the request).
     */
    public static Throwable failure(Throwable failure) {
        if (failure == null || plainChain(failure)) {
            return failure;
        }
        return escaped(failure, 0);
    }

    private static boolean plainChain(Throwable t) {
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            String message = t.getMessage();
            if (message != null && text(message) != message) {
                return false;
            }
        }
        return true;
    }

    private static Throwable escaped(Throwable t, int depth) {
        Throwable cause = t.getCause() == null || t.getCause() == t || depth >= 16 ? null : escaped(t.getCause(), depth + 1);
        Escaped copy = new Escaped(t.getClass().getName() + ": " + text(t.getMessage()), cause);
        copy.setStackTrace(t.getStackTrace());
        return copy;
    }

    /** A failure retold with an escaped message; its own class name stands in front of it in the log. */
    static final class Escaped extends RuntimeException {
        Escaped(String message, Throwable cause) {
            super(message, cause, false, true);
        }
    }

    private static boolean plain(char c) {
        return c >= 0x20 && c != 0x7f && c != '\\' && !(c >= 0x80 && c <= 0x9f) && c != 0x2028 && c != 0x2029;
    }
}
