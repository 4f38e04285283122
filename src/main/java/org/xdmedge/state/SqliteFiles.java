package org.xdmedge.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/** Opens the SQLite files under the data directory, all in WAL mode with the same driver settings. */
final class SqliteFiles {
    private SqliteFiles() {}

    /**
     * Opens (creating if need be) {@code dataDir/fileName}. {@code fsyncEachCommit} chooses
     * {@code synchronous=FULL} (a commit survives power loss) over {@code NORMAL} (it survives a
     * process crash).
     */
    static Connection open(Path dataDir, String fileName, boolean fsyncEachCommit) throws SQLException {
        return open(dataDir, fileName, fsyncEachCommit, 0);
    }

    /**
     * As {@link #open(Path, String, boolean)}, creating a new file with pages of {@code pageSize}
     * bytes (0: SQLite's default). An existing file keeps the page size it was created with.
     */
    static Connection open(Path dataDir, String fileName, boolean fsyncEachCommit, int pageSize) throws SQLException {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new SQLException("cannot create data directory " + dataDir + ": " + e.getMessage(), e);
        }
        Connection connection = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve(fileName).toAbsolutePath(),
                connectionProperties());
        try (Statement st = connection.createStatement()) {
            if (pageSize > 0) {
                // Before WAL mode: entering it writes the header of a new file, fixing its page size.
                st.execute("PRAGMA page_size=" + pageSize);
            }
            st.execute("PRAGMA journal_mode=WAL");
            st.execute(fsyncEachCommit ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
            st.execute("PRAGMA busy_timeout=5000");
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    /**
     * Driver settings of every connection that writes: no generated-key retrieval, which would
     * otherwise make sqlite-jdbc run a second statement ({@code SELECT last_insert_rowid()}) after
     * every INSERT. Nothing here reads generated keys.
     */
    static Properties connectionProperties() {
        Properties p = new Properties();
        p.setProperty("jdbc.get_generated_keys", "false");
        return p;
    }
}
