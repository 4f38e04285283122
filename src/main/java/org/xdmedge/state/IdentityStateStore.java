package org.xdmedge.state;

import java.util.Optional;

/**
 * Small per-identity state that must outlive a request and agree between requests: consent per
 * ECID, and later anything else keyed by identity. SQLite backs it on one node, Redis across nodes.
 * Calls may block; callers run them off the event loop.
 */
public interface IdentityStateStore extends AutoCloseable {
    Optional<String> get(String orgId, String ecid, String key);

    void put(String orgId, String ecid, String key, String value);

    /** Removes every key of one identity (a privacy delete); its bytes leave the store's files too. */
    default void delete(String orgId, String ecid) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot delete identity state");
    }

    @Override
    void close();
}
