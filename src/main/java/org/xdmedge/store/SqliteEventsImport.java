package org.xdmedge.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events stored by versions before the event log, as rows of {@code events.sqlite} (schema
 * versions 1 and 2). Opening the store moves them into the log once, keeping their sequence
 * numbers (so the event-id index, which names them, stays right), then renames the file to
 * {@code events.sqlite.imported}. An import cut short by a crash goes on where the log ends.
 * {@code export} reads rows not yet imported from the file itself.
 */
final class SqliteEventsImport {
    static final String FILE_NAME = "events.sqlite";
    private static final int NEWEST_SCHEMA_VERSION = 2;
    private static final int ROWS_PER_FRAME = 5_000;
    private static final Logger log = LoggerFactory.getLogger(SqliteEventsImport.class);

    private SqliteEventsImport() {}

    static void importInto(EventLog events, Path dataDir) throws IOException, SQLException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return;
        }
        long imported = 0;
        // Read-write, so that SQLite applies the file's own write-ahead log first.
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath())) {
            if (checkVersion(c)) {
                imported = copyRows(c, events);
            }
        }
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Path part = dataDir.resolve(FILE_NAME + suffix);
            if (Files.exists(part)) {
                Files.move(part, dataDir.resolve(FILE_NAME + suffix + ".imported"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        log.info("imported {} events from {} into the event log; the file is kept as {}.imported", imported, file, FILE_NAME);
    }

    private static long copyRows(Connection c, EventLog events) throws SQLException, IOException {
        long imported = 0;
        try (PreparedStatement st = c.prepareStatement(SELECT + " WHERE seq > ? ORDER BY seq")) {
            st.setLong(1, events.lastSeq());
            try (ResultSet rs = st.executeQuery()) {
                int inFrame = 0;
                long last = 0;
                events.begin();
                while (rs.next()) {
                    last = rs.getLong(9);
                    events.add(last, row(rs));
                    if (++inFrame == ROWS_PER_FRAME) {
                        events.commit(last);
                        imported += inFrame;
                        inFrame = 0;
                        events.begin();
                    }
                }
                if (inFrame > 0) {
                    events.commit(last);
                    imported += inFrame;
                }
            }
        }
        return imported;
    }

    /**
     * Calls {@code each} for the rows of a not yet imported {@code events.sqlite} above
     * {@code afterSeq}; read-only, beside a running server or not.
     */
    static void forEachRow(Path dataDir, long afterSeq, java.util.function.Consumer<StoredEvent> each)
            throws SQLException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return;
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + file.toAbsolutePath() + "?mode=ro")) {
            if (!checkVersion(c)) {
                return;
            }
            try (PreparedStatement st = c.prepareStatement(SELECT + " WHERE seq > ? ORDER BY seq")) {
                st.setLong(1, afterSeq);
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        each.accept(row(rs));
                    }
                }
            }
        }
    }

    private static final String SELECT = "SELECT request_id, datastream_id, dataset, received_at, event_id, primary_ns,"
            + " primary_id, event, seq FROM events";

    private static StoredEvent row(ResultSet rs) throws SQLException {
        return new StoredEvent(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
                rs.getString(6), rs.getString(7), rs.getBytes(8));
    }

    /** Refuses a file of a newer version; returns false when it has no events table at all. */
    private static boolean checkVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA user_version")) {
            rs.next();
            int version = rs.getInt(1);
            if (version > NEWEST_SCHEMA_VERSION) {
                throw new SQLException(FILE_NAME + " has schema version " + version
                        + ", written by a newer xdm-edge; this one reads up to " + NEWEST_SCHEMA_VERSION);
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'")) {
            return rs.next() && rs.getInt(1) > 0;
        }
    }
}
