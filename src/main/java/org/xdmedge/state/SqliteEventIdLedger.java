package org.xdmedge.state;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.xdmedge.outlet.EventIdLedger;

/**
 * {@link EventIdLedger} of a single node: stored ids in their own SQLite file ({@code dedup.sqlite}),
 * claims in memory (only this process can hold one). WAL with {@code synchronous=NORMAL}: an id
 * survives a crash of the process; a power loss may forget the last ids, which can then be stored
 * once more on retry.
 */
public final class SqliteEventIdLedger implements EventIdLedger {
    public static final String FILE_NAME = "dedup.sqlite";
    private final Connection connection;
    private final long windowMillis;
    private final long pendingMillis;
    private final Map<String, Long> pending = new HashMap<>();
    private long nextCleanup;

    public SqliteEventIdLedger(Path dataDir, long windowMillis, long pendingMillis) throws SQLException {
        this.windowMillis = windowMillis;
        this.pendingMillis = pendingMillis;
        // NORMAL: a confirmed id survives a crash of the process; the events themselves are in the outlet.
        connection = SqliteFiles.open(dataDir, FILE_NAME, false);
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS stored_ids (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID");
        }
        connection.setAutoCommit(false);
    }

    @Override
    public synchronized List<Claim> claim(List<String> keys) {
        long now = System.currentTimeMillis();
        List<Claim> out = new ArrayList<>(keys.size());
        try (PreparedStatement st = connection.prepareStatement("SELECT expires_at FROM stored_ids WHERE id = ?")) {
            for (String key : keys) {
                Long heldUntil = pending.get(key);
                if (heldUntil != null && heldUntil > now) {
                    out.add(Claim.IN_FLIGHT);
                    continue;
                }
                st.setString(1, key);
                boolean stored;
                try (ResultSet rs = st.executeQuery()) {
                    stored = rs.next() && rs.getLong(1) > now;
                }
                if (stored) {
                    out.add(Claim.STORED);
                } else {
                    pending.put(key, now + pendingMillis);
                    out.add(Claim.CLAIMED);
                }
            }
            connection.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("dedup ledger read failed: " + e.getMessage(), e);
        }
        return out;
    }

    @Override
    public synchronized void confirm(List<String> keys) {
        long now = System.currentTimeMillis();
        try (PreparedStatement st = connection.prepareStatement("INSERT OR REPLACE INTO stored_ids VALUES (?, ?)")) {
            for (String key : keys) {
                st.setString(1, key);
                st.setLong(2, now + windowMillis);
                st.addBatch();
            }
            st.executeBatch();
            if (now >= nextCleanup) {
                try (PreparedStatement del = connection.prepareStatement("DELETE FROM stored_ids WHERE expires_at <= ?")) {
                    del.setLong(1, now);
                    del.executeUpdate();
                }
                pending.values().removeIf(until -> until <= now);
                nextCleanup = now + 60_000;
            }
            connection.commit();
        } catch (SQLException e) {
            // The claims stay held: a retry waits for them to run out rather than store twice.
            throw new IllegalStateException("dedup ledger write failed: " + e.getMessage(), e);
        }
        keys.forEach(pending::remove);
    }

    @Override
    public synchronized void release(List<String> keys) {
        keys.forEach(pending::remove);
    }

    @Override
    public boolean ready() {
        return true;
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // closing anyway
        }
    }
}
