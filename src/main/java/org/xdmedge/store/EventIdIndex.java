package org.xdmedge.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event store's dedup index: which {@code (datastream, _id)} pairs are stored, in its own file
 * ({@value #FILE_NAME}) attached to the writer's connection, so a claim and the event's row commit
 * in one transaction.
 *
 * <p>Why a file of its own: clients make random ids (alloy and the Mobile SDKs send UUIDv4s, the
 * edge derives name-based ones from a requestId), so every new id lands on its own leaf of the
 * index, and a commit writes each dirtied page whole to the log. With the index inside
 * {@code events.sqlite} that was an 8 KiB page per event, five times the event's own bytes (the
 * writer alone: 30-38k events/s with random ids, 90-130k with time-ordered ones). Here pages are
 * {@value #PAGE_SIZE} bytes and an entry is three integers: a canonical UUID is packed into two
 * 64-bit halves and the datastream into a small number (other ids keep their text, exactly).
 *
 * <p>The index can be derived from the events, so it is written with {@code synchronous=NORMAL}
 * and repaired on open: {@code covered} records the last event sequence number whose id it holds;
 * claims of events the events file lost are removed, ids of events it lacks are added.
 */
final class EventIdIndex {
    static final String FILE_NAME = "event-ids.sqlite";
    static final String SCHEMA = "ids";
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
    /** Datastream numbers committed to the file. */
    private final Map<String, Long> datastreams = new HashMap<>();
    /** Numbers given out in the open transaction: kept only if it commits. */
    private final Map<String, Long> pendingDatastreams = new HashMap<>();
    private long nextDatastream;
    private final long[] uuid = new long[2];

    private EventIdIndex(Connection connection) throws SQLException {
        this.connection = connection;
        this.claimUuid = connection.prepareStatement(
                "INSERT INTO ids.uuid_ids (k, hi, lo, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
        this.claimText = connection.prepareStatement(
                "INSERT INTO ids.text_ids (k, event_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
        this.registerDatastream = connection.prepareStatement(
                "INSERT INTO ids.datastreams (k, datastream_id) VALUES (?, ?)");
        this.cover = connection.prepareStatement("UPDATE ids.covered SET seq = ?");
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT k, datastream_id FROM ids.datastreams")) {
            while (rs.next()) {
                datastreams.put(rs.getString(2), rs.getLong(1));
                nextDatastream = Math.max(nextDatastream, rs.getLong(1) + 1);
            }
        }
    }

    /**
     * Creates {@code dataDir/event-ids.sqlite} if need be, attaches it to the writer's
     * {@code connection} (auto-commit on, before the writer starts) and brings it up to date with
     * the events table.
     */
    static EventIdIndex attach(Connection connection, Path dataDir) throws SQLException {
        // Created on a connection of its own: the page size and WAL mode are fixed by the first write.
        try (Connection file = SqliteFiles.open(dataDir, FILE_NAME, false, PAGE_SIZE);
             Statement st = file.createStatement()) {
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
        }
        try (Statement st = connection.createStatement()) {
            st.execute("ATTACH DATABASE '" + dataDir.resolve(FILE_NAME).toAbsolutePath().toString().replace("'", "''")
                    + "' AS " + SCHEMA);
            // Derived data, repaired on open: no fsync per commit (checkpoints still sync it).
            st.execute("PRAGMA ids.synchronous=NORMAL");
            st.execute("PRAGMA ids.cache_size=-65536");
        }
        EventIdIndex index = new EventIdIndex(connection);
        index.repair();
        return index;
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

    /** After the writer's transaction committed. */
    void committed() {
        datastreams.putAll(pendingDatastreams);
        pendingDatastreams.clear();
    }

    /** After the writer's transaction rolled back (as a whole). */
    void rolledBack() {
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
     * Brings the index up to date with the events table: removes claims of events the events file
     * does not have (its commit was lost while this file's survived), adds the ids of events it
     * does not cover (this file's commit was lost, it was deleted, or the events file comes from
     * version 1, which kept a unique index instead).
     */
    private void repair() throws SQLException {
        long maxSeq;
        long covered;
        try (Statement st = connection.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT coalesce(max(seq), 0) FROM main.events")) {
                rs.next();
                maxSeq = rs.getLong(1);
            }
            try (ResultSet rs = st.executeQuery("SELECT seq FROM ids.covered")) {
                rs.next();
                covered = rs.getLong(1);
            }
            if (covered > maxSeq) {
                log.warn("event-id index covers events up to {} but the events end at {}; removing the excess", covered, maxSeq);
                connection.setAutoCommit(false);
                st.executeUpdate("DELETE FROM ids.uuid_ids WHERE seq > " + maxSeq);
                st.executeUpdate("DELETE FROM ids.text_ids WHERE seq > " + maxSeq);
                cover(maxSeq);
                connection.commit();
                connection.setAutoCommit(true);
                return;
            }
        }
        if (covered == maxSeq) {
            return;
        }
        log.info("adding the ids of events {}..{} to the event-id index", covered + 1, maxSeq);
        long added = 0;
        connection.setAutoCommit(false);
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT seq, datastream_id, event_id FROM main.events WHERE seq > ? ORDER BY seq LIMIT " + REBUILD_ROWS_PER_COMMIT)) {
            long from = covered;
            while (from < maxSeq) {
                select.setLong(1, from);
                java.util.List<StoredEvent> rows = new java.util.ArrayList<>();
                java.util.List<Long> seqs = new java.util.ArrayList<>();
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        seqs.add(rs.getLong(1));
                        rows.add(new StoredEvent(null, rs.getString(2), null, 0, rs.getString(3), null, null, null));
                    }
                }
                if (rows.isEmpty()) {
                    break;
                }
                register(rows);
                for (int i = 0; i < rows.size(); i++) {
                    claim(rows.get(i), seqs.get(i));
                }
                from = seqs.get(seqs.size() - 1);
                cover(from);
                connection.commit();
                committed();
                added += rows.size();
            }
            cover(maxSeq);
            connection.commit();
        } finally {
            connection.setAutoCommit(true);
        }
        log.info("event-id index: {} ids added", added);
    }

    void close() {
        try {
            claimUuid.close();
            claimText.close();
            registerDatastream.close();
            cover.close();
        } catch (SQLException e) {
            log.warn("closing the event-id index: {}", e.getMessage());
        }
    }
}
