package org.xdmedge.store;

import java.util.List;

/**
 * Remembers which event ids have been stored, so that a retry (to this node or any other) is
 * acknowledged without being stored again. A write claims its ids first ({@link #claim}); once the
 * outlet made the events durable it {@link #confirm}s them (remembered for the dedup window);
 * if the outlet definitely did not store them it {@link #release}s them. A claim whose outcome
 * stays unknown (a node died, a Kafka commit timed out) blocks its ids until the pending time runs
 * out, so a retry never races a write that might still land.
 *
 * <p>Keys are opaque strings, unique within one call. Calls block; callers run them off the event loop.
 */
public interface EventIdLedger extends AutoCloseable {
    enum Claim {
        /** Ours now: go ahead and store it. */
        CLAIMED,
        /** Already stored within the window: a duplicate. */
        STORED,
        /** Another write holds it and its outcome is not known yet: retry later. */
        IN_FLIGHT
    }

    /** Claims each key not stored or held; the answer is in the order of {@code keys}. */
    List<Claim> claim(List<String> keys);

    /** The claimed keys were stored: remember them for the dedup window. */
    void confirm(List<String> keys);

    /** The claimed keys were definitely not stored: let a retry claim them. */
    void release(List<String> keys);

    /** False while the ledger cannot answer (its server is down); cheap, never blocks. */
    boolean ready();

    @Override
    void close();
}
