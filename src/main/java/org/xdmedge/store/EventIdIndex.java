package org.xdmedge.store;

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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event store's dedup index: which {@code (datastream, _id)} pairs are stored, in
 * {@value #FILE_NAME}, whose connection the event writer owns. The writer claims a group's ids in
 * one transaction, appends the new events to the {@link EventLog}, and commits the claims only
 * after the log reached the disk.
 *
 * <p>Clients make random ids (alloy and the Mobile SDKs send UUIDv4s, the edge derives name-based
 * ones from a requestId), so every new id lands on its own leaf of the index, and a commit writes
 * each dirtied page whole to the log: pages are {@value #PAGE_SIZE} bytes and an entry is three
 * integers (a canonical UUID packed into two 64-bit halves, the datastream a small number; other
 * ids keep their text, exactly). With 8 KiB pages inside the events' own SQLite file the writer
 * alone did 30-38k events/s with random ids.
 *
 * <p>The index is derived from the event log, so it is written with {@code synchronous=NORMAL}
 * and repaired on open: {@code covered} records the last event sequence number whose id it holds;
 * claims of events the log lost are removed, ids of events it lacks are added.
 */
final class EventIdIndex {
    static final String FILE_NAME = "event-ids.sqlite";
    /**
     * Small pages: a random insert rewrites one leaf (and the pages above it) per commit.
     * Measured with the writer alone and random UUIDv4 ids, 50 events per request: see
     * docs/PERFORMANCE.md (fifth round).
     */
    static final int PAGE_SIZE = Integer.getInteger("xdmedge.idsPageSize", 1024);
    private static final Logger log = LoggerFactory.getLogger(EventIdIndex.class);
    private static final int REBUILD_ROWS_PER_COMMIT = 100_000;

    private final Connection connection;
    private final PreparedStatement claimUuid;
    private final PreparedStatement claimText;
    private final PreparedStatement registerDatastream;
    private final PreparedStatement cover;
    // Savepoints as prepared statements: Connection.setSavepoint() parses fresh SQL twice per request.
    private final PreparedStatement savepoint;
    private final PreparedStatement releaseSavepoint;
    private final PreparedStatement rollbackToSavepoint;
    /** Datastream numbers committed to the file. */
    private final Map<String, Long> datastreams = new HashMap<>();
    /** Numbers given out in the open transaction: kept only if it commits. */
    private final Map<String, Long> pendingDatastreams = new HashMap<>();
    private long nextDatastream;
    private final long[] uuid = new long[2];

    private EventIdIndex(Connection connection) throws SQLException {
        this.connection = connection;
        this.claimUuid = connection.prepareStatement(
                "INSERT INTO uuid_ids (k, hi, lo, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
        this.claimText = connection.prepareStatement(
                "INSERT INTO text_ids (k, event_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
        this.registerDatastream = connection.prepareStatement(
                "INSERT INTO datastreams (k, datastream_id) VALUES (?, ?)");
        this.cover = connection.prepareStatement("UPDATE covered SET seq = ?");
        // Nested inside the driver's open transaction (auto-commit is off), so RELEASE never commits.
        this.savepoint = connection.prepareStatement("SAVEPOINT request");
        this.releaseSavepoint = connection.prepareStatement("RELEASE SAVEPOINT request");
        this.rollbackToSavepoint = connection.prepareStatement("ROLLBACK TO SAVEPOINT request");
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT k, datastream_id FROM datastreams")) {
            while (rs.next()) {
                datastreams.put(rs.getString(2), rs.getLong(1));
                nextDatastream = Math.max(nextDatastream, rs.getLong(1) + 1);
            }
        }
    }

    /**
     * Opens (creating if need be) {@code dataDir/event-ids.sqlite} on a connection of its own, brings
     * it up to date with the event log under {@code dataDir} (which ends at {@code logLastSeq}) and
     * leaves the connection in a transaction for the writer (auto-commit off).
     */
    static EventIdIndex open(Path dataDir, long logLastSeq) throws SQLException {
        Connection connection = SqliteFiles.open(dataDir, FILE_NAME, false, PAGE_SIZE);
        try {
            try (Statement st = connection.createStatement()) {
                st.execute("""
                        CREATE TABLE IF NOT EXISTS uuid_ids (
                          k INTEGER NOT NULL, hi INTEGER NOT NULL, lo INTEGER NOT NULL, seq INTEGER NOT NULL,
                          PRIMARY KEY (k, hi, lo)) WITHOUT ROWID""");
                st.execute("""
                        CREATE TABLE IF NOT EXISTS text_ids (
                          k INTEGER NOT NULL, event_id TEXT NOT NULL, seq INTEGER NOT NULL,
                          PRIMARY KEY (k, event_id)) WITHOUT ROWID""");
                st.execute("CREATE TABLE IF NOT EXISTS datastreams (k INTEGER PRIMARY KEY, datastream_id TEXT NOT NULL UNIQUE)");
                st.execute("CREATE TABLE IF NOT EXISTS covered (seq INTEGER NOT NULL)");
                st.execute("INSERT INTO covered (seq) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM covered)");
                st.execute("PRAGMA cache_size=-65536");
                // Checkpoints run on their own thread (WalCheckpointer), never inside the writer's commit.
                st.execute("PRAGMA wal_autocheckpoint=0");
            }
            EventIdIndex index = new EventIdIndex(connection);
            index.repair(dataDir, logLastSeq);
            connection.setAutoCommit(false);
            return index;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** The index's connection: the writer's, for the checkpointer's tail copies. */
    Connection connection() {
        return connection;
    }

    void commit() throws SQLException {
        connection.commit();
        committed();
    }

    /** Rolls the open transaction back as a whole. */
    void rollback() throws SQLException {
        rolledBack();
        connection.rollback();
    }

    void savepoint() throws SQLException {
        savepoint.execute();
    }

    void releaseSavepoint() throws SQLException {
        releaseSavepoint.execute();
    }

    /** Undoes the claims made since {@link #savepoint} (datastream numbers are registered before it). */
    void rollbackToSavepoint() throws SQLException {
        rollbackToSavepoint.execute();
        releaseSavepoint.execute();
    }

    /**
     * Claims the event's id for sequence number {@code seq} inside the writer's open transaction:
     * true if it was not stored before (the event is then inserted with {@code seq}), false for a
     * duplicate.
     */
    boolean claim(StoredEvent event, long seq) throws SQLException {
        long k = datastreamKey(event.datastreamId());
        int letterCase = packUuid(event.eventId(), uuid);
        if (letterCase >= 0) {
            // Upper- and lower-case spellings are different ids, as they were when the text was the key.
            claimUuid.setLong(1, 2 * k + letterCase);
            claimUuid.setLong(2, uuid[0]);
            claimUuid.setLong(3, uuid[1]);
            claimUuid.setLong(4, seq);
            return claimUuid.executeUpdate() == 1;
        }
        claimText.setLong(1, k);
        claimText.setString(2, event.eventId());
        claimText.setLong(3, seq);
        return claimText.executeUpdate() == 1;
    }

    /** Records, inside the open transaction, that every event up to {@code seq} has its id here. */
    void cover(long seq) throws SQLException {
        cover.setLong(1, seq);
        cover.executeUpdate();
    }

    private void committed() {
        datastreams.putAll(pendingDatastreams);
        pendingDatastreams.clear();
    }

    private void rolledBack() {
        nextDatastream -= pendingDatastreams.size();
        pendingDatastreams.clear();
    }

    /**
     * Gives every datastream of the group that has no number yet its number, before any savepoint,
     * so that rolling back one request never undoes a number another request uses.
     */
    void register(Iterable<StoredEvent> events) throws SQLException {
        for (StoredEvent e : events) {
            String id = e.datastreamId();
            if (id == null || datastreams.containsKey(id) || pendingDatastreams.containsKey(id)) {
                continue;
            }
            long k = nextDatastream++;
            pendingDatastreams.put(id, k);
            registerDatastream.setLong(1, k);
            registerDatastream.setString(2, id);
            registerDatastream.executeUpdate();
        }
    }

    private long datastreamKey(String datastreamId) throws SQLException {
        Long k = datastreams.get(datastreamId);
        if (k == null) {
            k = pendingDatastreams.get(datastreamId);
        }
        if (k == null) {
            // register() runs first for every event of a group; a null datastream fails the event's row.
            throw new SQLException("datastream " + datastreamId + " has no number in the event-id index");
        }
        return k;
    }

    /**
     * Packs a UUID written in canonical form (8-4-4-4-12 hex digits, letters all lower or all upper
     * case) into {@code out}; returns 0 (lower case or no letters), 1 (upper case) or -1 (any
     * other text, which keeps its text as the key).
     */
    static int packUuid(String id, long[] out) {
        if (id == null || id.length() != 36) {
            return -1;
        }
        boolean lower = false;
        boolean upper = false;
        long hi = 0;
        long lo = 0;
        int digits = 0;
        for (int i = 0; i < 36; i++) {
            char c = id.charAt(i);
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (c != '-') {
                    return -1;
                }
                continue;
            }
            int v;
            if (c >= '0' && c <= '9') {
                v = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                v = c - 'a' + 10;
                lower = true;
            } else if (c >= 'A' && c <= 'F') {
                v = c - 'A' + 10;
                upper = true;
            } else {
                return -1;
            }
            if (digits++ < 16) {
                hi = hi << 4 | v;
            } else {
                lo = lo << 4 | v;
            }
        }
        if (lower && upper) {
            return -1;
        }
        out[0] = hi;
        out[1] = lo;
        return upper ? 1 : 0;
    }

    /**
     * Brings the index up to date with the event log (auto-commit on): removes claims of events the
     * log does not have (its frame was lost while this file's commit survived, or segments were
     * removed), adds the ids of events it does not cover (this file's last commits were lost, it
     * was deleted, or the events were imported from an older version's {@code events.sqlite}).
     * Also run by the writer, inside no transaction, when a commit of this file failed.
     */
    void repair(Path dataDir, long logLastSeq) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            long covered;
            try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT seq FROM covered")) {
                rs.next();
                covered = rs.getLong(1);
            }
            if (covered > logLastSeq) {
                log.warn("event-id index covers events up to {} but the event log ends at {}; removing the excess", covered, logLastSeq);
                try (Statement st = connection.createStatement()) {
                    st.executeUpdate("DELETE FROM uuid_ids WHERE seq > " + logLastSeq);
                    st.executeUpdate("DELETE FROM text_ids WHERE seq > " + logLastSeq);
                }
                cover(logLastSeq);
                commit();
            } else if (covered < logLastSeq) {
                log.info("adding the ids of events {}..{} to the event-id index", covered + 1, logLastSeq);
                long[] added = {0};
                List<StoredEvent> chunk = new ArrayList<>();
                List<Long> seqs = new ArrayList<>();
                EventLog.scan(dataDir, covered, (seq, event) -> {
                    chunk.add(event);
                    seqs.add(seq);
                    if (chunk.size() == REBUILD_ROWS_PER_COMMIT) {
                        added[0] += claimAll(chunk, seqs);
                    }
                });
                added[0] += claimAll(chunk, seqs);
                cover(logLastSeq);
                commit();
                log.info("event-id index: {} ids added", added[0]);
            }
        } catch (java.io.IOException e) {
            rollback();
            throw new SQLException("cannot read the event log to repair the event-id index: " + e.getMessage(), e);
        } catch (SQLException | RuntimeException e) {
            // What earlier chunks committed stays: claims are idempotent and `covered` names only those.
            rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    /** Claims a chunk of logged events and commits it with what it covers; returns how many were new. */
    private int claimAll(List<StoredEvent> events, List<Long> seqs) {
        if (events.isEmpty()) {
            return 0;
        }
        try {
            register(events);
            int added = 0;
            for (int i = 0; i < events.size(); i++) {
                added += claim(events.get(i), seqs.get(i)) ? 1 : 0;
            }
            cover(seqs.get(seqs.size() - 1));
            commit();
            events.clear();
            seqs.clear();
            return added;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot add ids to the event-id index: " + e.getMessage(), e);
        }
    }

    void close() {
        try {
            claimUuid.close();
            claimText.close();
            registerDatastream.close();
            cover.close();
            savepoint.close();
            releaseSavepoint.close();
            rollbackToSavepoint.close();
            connection.close();
        } catch (SQLException e) {
            log.warn("closing the event-id index: {}", e.getMessage());
        }
    }
}
