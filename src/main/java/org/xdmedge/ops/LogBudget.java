package org.xdmedge.ops;

/**
 * At most so many log lines of one kind per window. Under overload or on a full disk every refused
 * request would otherwise log its own line: hundreds a second, CPU the loops need, and a log that
 * fills the same disk. The count of what was left out is handed to the first line of the next
 * window, so the log still says how many there were (the request metrics count each one).
 */
public final class LogBudget {
    private final int linesPerWindow;
    private final long windowNanos;
    private long windowStart;
    private boolean started;
    private int used;
    private long leftOut;

    public LogBudget(int linesPerWindow, long windowNanos) {
        if (linesPerWindow < 1 || windowNanos < 1) {
            throw new IllegalArgumentException("a budget needs at least one line and a window");
        }
        this.linesPerWindow = linesPerWindow;
        this.windowNanos = windowNanos;
    }

    /**
     * For a line at {@code nowNanos}: negative if it is to be left out; otherwise it may be logged,
     * and the value is how many lines the window before left out (0: none, or the same window).
     */
    public synchronized long take(long nowNanos) {
        if (!started || nowNanos - windowStart >= windowNanos) {
            long before = leftOut;
            started = true;
            windowStart = nowNanos;
            used = 1;
            leftOut = 0;
            return before;
        }
        if (used < linesPerWindow) {
            used++;
            return 0;
        }
        leftOut++;
        return -1;
    }

    public long windowSeconds() {
        return windowNanos / 1_000_000_000L;
    }
}
