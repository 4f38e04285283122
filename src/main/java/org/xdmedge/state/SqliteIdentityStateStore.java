package org.xdmedge.state;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * {@link IdentityStateStore} in its own SQLite file, so that its small writes never wait behind the
 * event writer's group commits. Organizations are part of the key: state never crosses them.
 */
public final class SqliteIdentityStateStore implements IdentityStateStore {
    public static final String FILE_NAME = "state.sqlite";
    private final Connection connection;

    public SqliteIdentityStateStore(Path dataDir) throws SQLException {
        connection = SqliteFiles.open(dataDir, FILE_NAME, true);
        try (Statement st = connection.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS identity_state (org_id TEXT NOT NULL, ecid TEXT NOT NULL,"
                    + " key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,"
                    + " PRIMARY KEY (org_id, ecid, key)) WITHOUT ROWID");
        }
    }

    @Override
    public synchronized Optional<String> get(String orgId, String ecid, String key) {
        try (PreparedStatement st = connection.prepareStatement(
                "SELECT value FROM identity_state WHERE org_id = ? AND ecid = ? AND key = ?")) {
            st.setString(1, orgId);
            st.setString(2, ecid);
            st.setString(3, key);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("identity state read failed: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void put(String orgId, String ecid, String key, String value) {
        try (PreparedStatement st = connection.prepareStatement("INSERT INTO identity_state VALUES (?, ?, ?, ?, ?)"
                + " ON CONFLICT (org_id, ecid, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")) {
            st.setString(1, orgId);
            st.setString(2, ecid);
            st.setString(3, key);
            st.setString(4, value);
            st.setLong(5, System.currentTimeMillis());
            st.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("identity state write failed: " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the identity's rows with {@code secure_delete} on (freed pages are zeroed), then
     * checkpoints the WAL and truncates it, so its values are in no file of the data directory.
     */
    @Override
    public synchronized void delete(String orgId, String ecid) {
        try (Statement pragma = connection.createStatement()) {
            pragma.execute("PRAGMA secure_delete = ON");
            try (PreparedStatement st = connection.prepareStatement(
                    "DELETE FROM identity_state WHERE org_id = ? AND ecid = ?")) {
                st.setString(1, orgId);
                st.setString(2, ecid);
                st.executeUpdate();
            }
            pragma.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        } catch (SQLException e) {
            throw new IllegalStateException("identity state delete failed: " + e.getMessage(), e);
        }
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
