package org.xdmedge.store.log;

/**
 * What retention must keep for readers of the log beyond the store itself (forwarding): it deletes
 * no segment holding an event at or after {@link #neededFrom()} while the log takes at most
 * {@link #maxHeldBytes()}; past that it deletes it anyway, telling {@link #dropping} first.
 */
public interface RetentionHold {
    /** The lowest sequence number a reader has not passed yet (Long.MAX_VALUE: none is needed). */
    long neededFrom();

    /** How large the log may grow by what the hold keeps (0: no limit). */
    long maxHeldBytes();

    /** Called before a needed segment holding events {@code fromSeq..toSeq} is deleted; the events are still readable. */
    void dropping(long fromSeq, long toSeq);
}
