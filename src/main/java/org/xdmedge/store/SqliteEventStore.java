package org.xdmedge.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded dataset store: one SQLite file in WAL mode with {@code synchronous=FULL}, written by
 * one thread that commits many requests per transaction (group commit). If one request of a group
 * fails, the group is written again with each request in its own savepoint, so the failing request
 * rolls back alone and never leaves half a batch. A request completes only after the commit that
 * holds it returned, so an acknowledgement means durable. Checkpoints (copying the log into the
 * database file) run on a second thread, {@link WalCheckpointer}. Which event ids are stored is
 * kept in {@link EventIdIndex}, a second file attached to the writer's connection.
 */
public final class SqliteEventStore implements EventSink {
    public static final String FILE_NAME = "events.sqlite";
    private static final Logger log = LoggerFactory.getLogger(SqliteEventStore.class);
    /** Version 2 moved the dedup index into {@link EventIdIndex}; version 1 files are migrated on open. */
    private static final int SCHEMA_VERSION = 2;
    /**
     * 8 KiB pages, not SQLite's 4 KiB: a 1.5-2 KB event left a quarter of each 4 KiB page empty,
     * and every page costs a WAL frame and its checksum. Measured with the writer alone (one CPU,
     * time-ordered ids): 50 events per request ~54k → ~70-100k events/s; one event per request
     * ~35-42k → ~48-50k. 16 KiB pages were no better for batches and worse for single events, whose
     * small commits rewrite a partly filled last page each time.
     */
    static final int PAGE_SIZE = 8192;

    private final Connection connection;
    private final WalCheckpointer checkpointer;
    private final EventIdIndex ids;
    private final WalCheckpointer idsCheckpointer;
    /** The next event's sequence number; the writer gives them out, so a claim can name its row. */
    private long nextSeq;
    /** The last sequence number the writer inserted (what the index is told it covers at commit). */
    private long lastStoredSeq;
    private final PreparedStatement insert;
    // Savepoints as prepared statements: Connection.setSavepoint() parses fresh SQL twice per request.
    private final PreparedStatement savepoint;
    private final PreparedStatement releaseSavepoint;
    private final PreparedStatement rollbackToSavepoint;
    private final BlockingQueue<PendingWrite> queue;
    private final int maxRequestsPerCommit;
    private final int retryAfterSeconds;
    private final Thread writer;
    private final AtomicLong storedEvents = new AtomicLong();
    private final AtomicLong duplicateEvents = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    private volatile boolean accepting = true;
    /** Set by the writer before its final drain, so a write racing with close() is never left unanswered. */
    private volatile boolean writerDone;
    private volatile boolean healthy = true;
    private boolean closed;

    private record PendingWrite(List<StoredEvent> events, CompletableFuture<WriteResult> done) {}

    private SqliteEventStore(Connection connection, EventIdIndex ids, long nextSeq, WalCheckpointer checkpointer,
                             WalCheckpointer idsCheckpointer, int queueCapacity, int maxRequestsPerCommit,
                             int retryAfterSeconds) throws SQLException {
        this.connection = connection;
        this.ids = ids;
        this.nextSeq = nextSeq;
        this.lastStoredSeq = nextSeq - 1;
        this.checkpointer = checkpointer;
        this.idsCheckpointer = idsCheckpointer;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.maxRequestsPerCommit = maxRequestsPerCommit;
        this.retryAfterSeconds = retryAfterSeconds;
        // A repeated event id never gets here (EventIdIndex.claim); a constraint failure fails the request.
        this.insert = connection.prepareStatement("INSERT INTO events (seq, dataset, datastream_id, event_id,"
                + " request_id, received_at, primary_ns, primary_id, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        // Nested inside the driver's open transaction (auto-commit is off), so RELEASE never commits.
        this.savepoint = connection.prepareStatement("SAVEPOINT request");
        this.releaseSavepoint = connection.prepareStatement("RELEASE SAVEPOINT request");
        this.rollbackToSavepoint = connection.prepareStatement("ROLLBACK TO SAVEPOINT request");
        this.writer = new Thread(this::writeLoop, "sqlite-event-writer");
        this.writer.setDaemon(false);
        this.writer.start();
    }

    public static SqliteEventStore open(Path dataDir, int queueCapacity, int maxRequestsPerCommit,
                                        int retryAfterSeconds) throws SQLException {
        return open(dataDir, queueCapacity, maxRequestsPerCommit, retryAfterSeconds, WalCheckpointer.RESTART_LOG_BYTES);
    }

    /** As {@link #open(Path, int, int, int)}, with the log length that makes the writer restart it (tests). */
    static SqliteEventStore open(Path dataDir, int queueCapacity, int maxRequestsPerCommit, int retryAfterSeconds,
                                 long restartLogBytes) throws SQLException {
        Connection connection = SqliteFiles.open(dataDir, FILE_NAME, true, PAGE_SIZE);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            int version = createSchema(connection);
            EventIdIndex ids = EventIdIndex.attach(connection, dataDir);
            opened.add(ids::close);
            if (version < 2) {
                migrateFromVersion1(connection);
            }
            long nextSeq;
            try (Statement st = connection.createStatement();
                 java.sql.ResultSet rs = st.executeQuery("SELECT coalesce(max(seq), 0) + 1 FROM events")) {
                rs.next();
                nextSeq = rs.getLong(1);
            }
            connection.setAutoCommit(false);
            WalCheckpointer checkpointer = WalCheckpointer.start(dataDir, FILE_NAME, true, restartLogBytes, "main");
            opened.add(checkpointer);
            WalCheckpointer idsCheckpointer = WalCheckpointer.start(dataDir, EventIdIndex.FILE_NAME, false,
                    restartLogBytes, EventIdIndex.SCHEMA);
            opened.add(idsCheckpointer);
            return new SqliteEventStore(connection, ids, nextSeq, checkpointer, idsCheckpointer, queueCapacity,
                    maxRequestsPerCommit, retryAfterSeconds);
        } catch (SQLException | RuntimeException e) {
            for (AutoCloseable c : opened) {
                try {
                    c.close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
            }
            try {
                connection.close();
            } catch (SQLException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** Creates the events table if need be; returns the file's schema version before this open. */
    private static int createSchema(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            int version;
            try (java.sql.ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                rs.next();
                version = rs.getInt(1);
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException(FILE_NAME + " has schema version " + version
                        + ", written by a newer xdm-edge; this one reads up to " + SCHEMA_VERSION);
            }
            st.execute("PRAGMA cache_size=-65536");
            st.execute("""
                    CREATE TABLE IF NOT EXISTS events (
                      seq INTEGER PRIMARY KEY,
                      dataset TEXT NOT NULL,
                      datastream_id TEXT NOT NULL,
                      event_id TEXT NOT NULL,
                      request_id TEXT NOT NULL,
                      received_at INTEGER NOT NULL,
                      primary_ns TEXT,
                      primary_id TEXT,
                      event BLOB NOT NULL)""");
            // Checkpoints run on their own threads (WalCheckpointer), never inside the writer's commit.
            st.execute("PRAGMA wal_autocheckpoint=0");
            return version;
        }
    }

    /**
     * Version 1 kept a unique {@code (datastream_id, event_id)} index in this file. Opening the
     * index has already added every event's id to it (nothing covered them yet), so the old index
     * goes. Also run for a new file (version 0), where it only sets the version.
     */
    private static void migrateFromVersion1(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("DROP INDEX IF EXISTS events_by_event_id");
            st.execute("PRAGMA user_version=" + SCHEMA_VERSION);
        }
        log.debug("{} is at schema version {}; event ids are kept in {}", FILE_NAME, SCHEMA_VERSION, EventIdIndex.FILE_NAME);
    }

    /**
     * Driver settings of every connection that writes: no generated-key retrieval, which would
     * otherwise make sqlite-jdbc run a second statement ({@code SELECT last_insert_rowid()}) after
     * every INSERT (about a fifth of the writer's time in a profile). Nothing here reads generated keys.
     */
    static java.util.Properties connectionProperties() {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("jdbc.get_generated_keys", "false");
        return p;
    }


    @Override
    public CompletionStage<WriteResult> write(List<StoredEvent> events) {
        if (!accepting) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the store is shutting down", retryAfterSeconds));
        }
        PendingWrite pending = new PendingWrite(events, new CompletableFuture<>());
        if (!queue.offer(pending)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the store's write queue is full", retryAfterSeconds));
        }
        // Raced with close(): the writer may already have taken its last look at the queue.
        if (writerDone && queue.remove(pending)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the store is shutting down", retryAfterSeconds));
        }
        return pending.done();
    }

    @Override
    public boolean ready() {
        return accepting && healthy && writer.isAlive() && queue.remainingCapacity() > 0;
    }

    public int queueDepth() {
        return queue.size();
    }

    public long storedEvents() {
        return storedEvents.get();
    }

    public long duplicateEvents() {
        return duplicateEvents.get();
    }

    public long commits() {
        return commits.get();
    }

    /** Checkpoints run by the background checkpointer (each copies log pages into the database file). */
    public long checkpoints() {
        return checkpointer.checkpoints();
    }

    /** Checkpoints of the log's short tail the writer ran itself between two groups. */
    public long writerCheckpoints() {
        return checkpointer.writerCheckpoints();
    }

    private void writeLoop() {
        List<PendingWrite> group = new ArrayList<>(maxRequestsPerCommit);
        while (accepting || !queue.isEmpty()) {
            try {
                PendingWrite first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                group.add(first);
                queue.drainTo(group, maxRequestsPerCommit - 1);
                commitGroup(group);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                log.error("event writer failed a group of requestIds={}", requestIds(group), e);
                fail(group, e);
            } finally {
                group.clear();
            }
        }
        writerDone = true;
        List<PendingWrite> left = new ArrayList<>();
        queue.drainTo(left);
        fail(left, new SinkUnavailableException("the store stopped", retryAfterSeconds));
    }

    private void commitGroup(List<PendingWrite> group) {
        List<WriteResult> results;
        long coveredBefore = lastStoredSeq;
        try {
            results = writeAllOrNothing(group);
            if (results == null) {
                results = writeEachInSavepoint(group);
            }
            if (lastStoredSeq != coveredBefore) {
                ids.cover(lastStoredSeq);
            }
            connection.commit();
        } catch (SQLException e) {
            healthy = false;
            log.error("commit of {} requests failed; none of them is acknowledged; requestIds={}", group.size(), requestIds(group), e);
            rollbackQuietly();
            lastStoredSeq = coveredBefore;
            fail(group, new SinkUnavailableException("the store could not commit: " + e.getMessage(), retryAfterSeconds, e));
            return;
        }
        ids.committed();
        healthy = true;
        commits.incrementAndGet();
        long stored = 0;
        for (WriteResult result : results) {
            stored += result == null ? 0 : result.stored();
        }
        checkpointer.afterCommit(connection, rowBytesOf(group));
        // Each new id rewrites about one small index page (random ids; fewer when ids are ordered).
        idsCheckpointer.afterCommit(connection, stored * EventIdIndex.PAGE_SIZE);
        for (int i = 0; i < group.size(); i++) {
            PendingWrite pending = group.get(i);
            WriteResult result = results.get(i);
            if (result == null) {
                continue; // already failed alone inside its savepoint
            }
            storedEvents.addAndGet(result.stored());
            duplicateEvents.addAndGet(result.duplicates());
            pending.done().complete(result);
        }
    }

    /**
     * The usual case: every insert of the group succeeds, so no savepoints are needed (they were
     * two of the three statements per single-event request). On the first failure the whole
     * transaction is rolled back and null returned; the group is then written again request by
     * request, each in its own savepoint, so only the failing request fails.
     */
    private List<WriteResult> writeAllOrNothing(List<PendingWrite> group) throws SQLException {
        long coveredBefore = lastStoredSeq;
        List<WriteResult> results = new ArrayList<>(group.size());
        try {
            registerDatastreams(group);
            for (PendingWrite pending : group) {
                int stored = insertAll(pending.events());
                results.add(new WriteResult(stored, pending.events().size() - stored));
            }
            return results;
        } catch (SQLException e) {
            connection.rollback(); // if this throws, the group fails as a whole (commitGroup)
            ids.rolledBack();
            lastStoredSeq = coveredBefore;
            return null;
        }
    }

    private void registerDatastreams(List<PendingWrite> group) throws SQLException {
        for (PendingWrite pending : group) {
            ids.register(pending.events());
        }
    }

    private List<WriteResult> writeEachInSavepoint(List<PendingWrite> group) throws SQLException {
        registerDatastreams(group); // outside every savepoint: one request's rollback keeps them
        List<WriteResult> results = new ArrayList<>(group.size());
        for (PendingWrite pending : group) {
            results.add(writeOne(pending));
        }
        return results;
    }

    private int insertAll(List<StoredEvent> events) throws SQLException {
        int stored = 0;
        for (StoredEvent e : events) {
            long seq = nextSeq++; // a rolled-back group leaves a gap, which nothing minds
            if (!ids.claim(e, seq)) {
                continue; // stored before: a retry, or the same id twice in one request
            }
            insert.setLong(1, seq);
            insert.setString(2, e.dataset());
            insert.setString(3, e.datastreamId());
            insert.setString(4, e.eventId());
            insert.setString(5, e.requestId());
            insert.setLong(6, e.receivedAtMillis());
            insert.setString(7, e.primaryNamespace());
            insert.setString(8, e.primaryId());
            insert.setBytes(9, e.eventJson());
            stored += insert.executeUpdate();
            lastStoredSeq = seq;
        }
        return stored;
    }

    /** Writes one request inside a savepoint; returns null (and fails it) if it could not be written. */
    private WriteResult writeOne(PendingWrite pending) throws SQLException {
        savepoint.execute();
        try {
            int stored = insertAll(pending.events());
            releaseSavepoint.execute();
            return new WriteResult(stored, pending.events().size() - stored);
        } catch (SQLException e) {
            rollbackToSavepoint.execute();
            releaseSavepoint.execute();
            log.warn("requestId={} could not be stored: {}", pending.events().isEmpty() ? "-" : pending.events().get(0).requestId(), e.getMessage());
            pending.done().completeExceptionally(new SinkUnavailableException("the store refused the write: " + e.getMessage(), retryAfterSeconds, e));
            return null;
        }
    }

    /** About the bytes of a group's rows: the events' JSON and a little for the other columns. */
    private static long rowBytesOf(List<PendingWrite> group) {
        long bytes = 0;
        for (PendingWrite pending : group) {
            for (StoredEvent e : pending.events()) {
                bytes += e.eventJson().length + 128;
            }
        }
        return bytes;
    }

    /** The request ids of a group, so every log line about requests names them. */
    private static List<String> requestIds(List<PendingWrite> group) {
        List<String> ids = new ArrayList<>(group.size());
        for (PendingWrite pending : group) {
            ids.add(pending.events().isEmpty() ? "-" : pending.events().get(0).requestId());
        }
        return ids;
    }

    private void rollbackQuietly() {
        ids.rolledBack();
        try {
            connection.rollback();
        } catch (SQLException e) {
            log.warn("rollback failed: {}", e.getMessage());
        }
    }

    private static void fail(List<PendingWrite> group, Throwable cause) {
        for (PendingWrite pending : group) {
            pending.done().completeExceptionally(cause);
        }
    }

    /** Stops accepting, commits everything already queued, then closes the file. */
    @Override
    public void close() {
        close(java.time.Duration.ofSeconds(30));
    }

    /**
     * Stops accepting and commits everything already queued, waiting at most {@code grace} for the
     * writer. The file is closed only once the writer has stopped; if it has not stopped in time
     * the file stays open (WAL keeps it consistent when the process then exits).
     *
     * @return true when every queued write was committed (or answered) and the file closed
     */
    public boolean close(java.time.Duration grace) {
        accepting = false;
        try {
            writer.join(Math.max(1, grace.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            log.warn("the event writer did not finish within {} s; {} requests still queued", grace.toSeconds(), queue.size());
            return false;
        }
        synchronized (this) {
            if (closed) {
                return true;
            }
            closed = true;
        }
        checkpointer.close(); // before the last connection closes, so SQLite's own final checkpoint runs
        idsCheckpointer.close();
        ids.close();
        try {
            insert.close();
            savepoint.close();
            releaseSavepoint.close();
            rollbackToSavepoint.close();
            connection.close();
        } catch (SQLException e) {
            log.warn("closing the store: {}", e.getMessage());
        }
        return true;
    }
}
