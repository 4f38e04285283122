package org.xdmedge.outlet;

import java.util.List;
import java.util.Map;

/**
 * Remembers which event ids have been stored, so that a retry (to this node or any other) is
 * acknowledged without being stored again. A write claims its ids first ({@link #claim}); once the
 * outlet made the events durable it {@link #confirm}s them (remembered for the dedup window);
 * if the outlet definitely did not store them it {@link #release}s them.
 *
 * <p>A claim whose outcome stays unknown (a node died, a Kafka commit timed out) blocks its ids.
 * A claim made with a writer tag (an outlet that can settle from its log, see
 * {@link DedupingSink.Settler}) is kept until a retry settles it from the log ({@link #holders},
 * {@link #settle}), across a restart of the process too; one made without runs out after the
 * pending time, so a retry never races a write that might still land.
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

    /**
     * Who holds a claim: {@code value} (the claim as stored, to settle it only if unchanged), when it
     * was claimed (the holder's clock), the writer tag its outlet gave, whether the holder's lease
     * is live (a process that stopped renewing it has died or lost the ledger), and whether the
     * holder is known to have ended (the former process on this data directory: nothing it queued
     * can be published any more, so its claims are settled without waiting).
     */
    record Holder(String value, long claimedAtMillis, String writerTag, boolean live, boolean ended) {
        public Holder(String value, long claimedAtMillis, String writerTag, boolean live) {
            this(value, claimedAtMillis, writerTag, live, false);
        }
    }

    /** Claims each key not stored or held; the answer is in the order of {@code keys}. */
    List<Claim> claim(List<String> keys);

    /** As {@link #claim(List)}, recording the outlet's writer tag so that a retry can settle the claim from the log. */
    default List<Claim> claim(List<String> keys, String writerTag) {
        return claim(keys);
    }

    /** The current holders of those of {@code keys} that are held by a claim with a writer tag. */
    default Map<String, Holder> holders(List<String> keys) {
        return Map.of();
    }

    /**
     * Settles claims from the log: {@code stored} become stored ids, {@code absent} are freed; each
     * only while still held as described (another retry may have settled it first).
     */
    default void settle(Map<String, Holder> stored, Map<String, Holder> absent) {}

    /** The claimed keys were stored: remember them for the dedup window. */
    void confirm(List<String> keys);

    /** The claimed keys were definitely not stored: let a retry claim them. */
    void release(List<String> keys);

    /** False while the ledger cannot answer (its server is down); cheap, never blocks. */
    boolean ready();

    @Override
    void close();
}
