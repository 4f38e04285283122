package org.xdmedge.state;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@link IdentityStateStore} in memory, for embedding the pipeline without a data directory.
 * It forgets everything on restart; {@code EdgeNode} always uses {@link SqliteIdentityStateStore}.
 */
public final class InMemoryIdentityStateStore implements IdentityStateStore {
    private final ConcurrentHashMap<String, String> values = new ConcurrentHashMap<>();

    @Override
    public Optional<String> get(String orgId, String ecid, String key) {
        return Optional.ofNullable(values.get(orgId + '\n' + ecid + '\n' + key));
    }

    @Override
    public void put(String orgId, String ecid, String key, String value) {
        values.put(orgId + '\n' + ecid + '\n' + key, value);
    }

    @Override
    public void delete(String orgId, String ecid) {
        values.keySet().removeIf(k -> k.startsWith(orgId + '\n' + ecid + '\n'));
    }

    @Override
    public void close() {
        values.clear();
    }
}
