package org.xdmedge.store.log;

/**
 * The event writer's hand-over with the event loop on a one-CPU JVM ({@code
 * Runtime.availableProcessors() == 1}); with more CPUs, or with {@code storage.writerHandOver: off},
 * every method does nothing.
 *
 * <p>Why: on one CPU the first request queued wakes the writer in the middle of the event loop's
 * batch of reads; it would commit that request alone and the rest of the batch in the next groups.
 * So the writer yields once before it drains the queue ({@link #writerYield}), letting the loop
 * queue what it has already read, and a group holds the batch. But a writer that yielded runs
 * again only once the loop has read everything it can: then every open request sits in one group
 * on the disk and the CPU idles until the disk answers. So the loop hands the CPU over ({@link
 * #afterQueued}) as soon as the queue holds seven eighths of the most requests recently in the
 * store at once (queued or committing): the group goes to the disk while the loop reads the rest,
 * which make the next group. The mark follows the peak, not the last group, so split groups do
 * not shrink it in turn. With more CPUs the loop runs beside the writer and yielding would only
 * give the CPU away.
 *
 * <p>Threads: {@link #afterQueued} runs on the threads that queue requests; the others on the
 * writer. The shared fields are volatile; a lost update of the peak only delays its decay.
 */
final class WriterHandOver {
    private static final boolean ONE_CPU = Runtime.getRuntime().availableProcessors() == 1;

    private final boolean enabled;
    /** Set while the writer yields before draining the queue. */
    private volatile boolean writerYielding;
    /** Requests of the group being committed (0 between groups). */
    private volatile int committing;
    /** The most requests in the store at once, decaying by 1/1024 per request; fixed point, x1024. */
    private volatile long inStorePeak;

    /** Enabled on a one-CPU JVM. */
    WriterHandOver() {
        this(ONE_CPU);
    }

    WriterHandOver(boolean enabled) {
        this.enabled = enabled;
    }

    /** On the queueing thread, after it queued a request and {@code queued} are waiting. */
    void afterQueued(int queued) {
        if (!enabled) {
            return;
        }
        long peak = Math.max((long) (queued + committing) << 10, inStorePeak - (inStorePeak >> 10));
        inStorePeak = peak;
        if (writerYielding && queued >= (peak >> 10) * 7 / 8) {
            Thread.yield();
        }
    }

    /** On the writer, once it took a group's first request: lets the loop queue what it has read. */
    void writerYield() {
        if (enabled) {
            writerYielding = true;
            Thread.yield();
            writerYielding = false;
        }
    }

    /** On the writer: the group being committed holds {@code requests} (0: none, or answered). */
    void committing(int requests) {
        committing = requests;
    }
}
