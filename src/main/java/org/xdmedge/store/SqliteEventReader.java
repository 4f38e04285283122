package org.xdmedge.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * Reads stored events back in the order they were committed, for {@code export}. Opens the file
 * read-only, so it works beside a running server (WAL lets readers and the writer proceed together).
 */
public final class SqliteEventReader {
    private SqliteEventReader() {}

    /** Calls {@code each} for every stored event (of {@code dataset}, when not null); returns the count. */
    public static long forEach(Path dataDir, String dataset, Consumer<StoredEvent> each) throws SQLException {
        Path file = dataDir.resolve(SqliteEventStore.FILE_NAME);
        if (!Files.exists(file)) {
            throw new SQLException("no event store at " + file.toAbsolutePath());
        }
        String sql = "SELECT request_id, datastream_id, dataset, received_at, event_id, primary_ns, primary_id, event"
                + " FROM events" + (dataset == null ? "" : " WHERE dataset = ?") + " ORDER BY seq";
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + file.toAbsolutePath() + "?mode=ro");
             PreparedStatement st = c.prepareStatement(sql)) {
            if (dataset != null) {
                st.setString(1, dataset);
            }
            long count = 0;
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    each.accept(new StoredEvent(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getBytes(8)));
                    count++;
                }
            }
            return count;
        }
    }
}
