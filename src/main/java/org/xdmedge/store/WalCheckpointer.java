package org.xdmedge.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a SQLite file's write-ahead log into the database file on its own thread and connection,
 * so the writer does not wait for checkpoints. SQLite's automatic checkpoint runs inside the commit
 * that crosses 1000 log pages: with the event store's 8 KiB pages that is 8 MB copied and the
 * database file fsynced while every queued request waits (measured: interact p99 12-19 ms on one
 * CPU, 5.6-8.8 ms with no checkpoint at all).
 *
 * <p>A cycle starts once about {@link #cycleBytes} were appended to the log since the last one (or
 * after a second of quiet, so an idle store ends with its log copied). It runs PASSIVE checkpoints,
 * which never block the writer, until at most {@link #TAIL_BYTES} of the log are left uncopied.
 * The log can only start again from its beginning (so that it stays short and its pages are
 * overwritten in place, about five times cheaper here than growing a file) when a write
 * transaction begins with all of it copied, and a busy writer always appends more while the
 * checkpointer copies. So the writer copies that tail itself, between two groups
 * ({@link #afterCommit}), when it is short (at most {@link #TAIL_BYTES}: small commits), or when
 * the log has grown to {@link #restartLogBytes} (large commits, whose tail is a whole commit and
 * stalls the writer for milliseconds); its next transaction then restarts the log.
 */
final class WalCheckpointer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);
    /**
     * A cycle's copy ends with an fsync of the database file, and a commit's fsync of the log that
     * meets it on the disk waits for it: measured with interact (unpinned), fixed cycles of 32 MB gave
     * a p99 of 25 ms, 8 MB 11 ms, 2 MB 7 ms, 1 MB 6 ms, while 50-event batches stored 10% more with
     * 8 MB cycles than with 1 MB. So a cycle is about {@link #COMMITS_PER_CYCLE} commits long,
     * between these bounds: small commits get small cycles, large ones large. Against 32 commits
     * and 1 MB, 16 and 512 KiB took interact p99 on one CPU from ~11 to ~7 ms (throughput alike);
     * 8 and 256 KiB cost unpinned interact 7% of its throughput.
     */
    static final long MIN_CYCLE_BYTES = 512L << 10;
    static final long MAX_CYCLE_BYTES = 8L << 20;
    static final int COMMITS_PER_CYCLE = 16;
    /** What a cycle leaves for the writer to copy: a fraction of a millisecond. */
    static final long TAIL_BYTES = 256L << 10;
    /**
     * Past this, the writer copies however long a tail, so that the log restarts. Measured with
     * 50-event batches (unpinned): 32 MB 78k stored events/s, 128 MB 85k; the log file keeps this
     * length, and opening after a crash reads it once.
     */
    static final long RESTART_LOG_BYTES = 128L << 20;
    private static final int MAX_PASSES_PER_CYCLE = 16;
    private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Connection connection;
    private final Thread thread;
    /** About the bytes the writer's commits appended to the log; the writer thread is its only writer. */
    private final AtomicLong committedBytes = new AtomicLong();
    /** The writer's running average of what one commit appends; only the writer thread uses it. */
    private double averageCommitBytes;
    private volatile long cycleBytes = MIN_CYCLE_BYTES;
    /** committedBytes when the last cycle started; the checkpointer thread is its only writer. */
    private volatile long cycleStartBytes;
    /** Set by the checkpointer when only the tail is left; taken (or declined) by the writer. */
    private volatile boolean tailWanted;
    /** committedBytes when the checkpointer's last pass began: all of that is copied. */
    private volatile long copiedBytes;
    /** The length of the log that pass found, in bytes. */
    private volatile long logBytes;
    private final long pageSize;
    private final long restartLogBytes;
    /** The file's schema name on the writer's connection ({@code main}, or an attached file's name). */
    private final String writerSchema;
    private final AtomicLong checkpoints = new AtomicLong();
    private final AtomicLong writerCheckpoints = new AtomicLong();
    private volatile boolean running = true;
    private boolean failing; // the checkpointer thread's own

    private WalCheckpointer(Connection connection, long pageSize, long restartLogBytes, String fileName,
                            String writerSchema) {
        this.connection = connection;
        this.pageSize = pageSize;
        this.restartLogBytes = restartLogBytes;
        this.writerSchema = writerSchema;
        this.thread = new Thread(this::run, "sqlite-checkpointer-" + fileName);
        this.thread.setDaemon(true);
    }

    /**
     * Opens a second connection to {@code dataDir/fileName} and starts the checkpointer thread;
     * {@code writerSchema} names the file on the writer's connection, where the writer copies tails.
     */
    static WalCheckpointer start(Path dataDir, String fileName, boolean fsyncEachCommit, long restartLogBytes,
                                 String writerSchema) throws SQLException {
        Connection connection = SqliteFiles.open(dataDir, fileName, fsyncEachCommit);
        long pageSize;
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("PRAGMA page_size")) {
            rs.next();
            pageSize = rs.getLong(1);
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        WalCheckpointer checkpointer = new WalCheckpointer(connection, pageSize, restartLogBytes, fileName, writerSchema);
        checkpointer.thread.start();
        return checkpointer;
    }

    /**
     * Called by the writer after each commit, outside any transaction, with its own connection and
     * about the bytes of the rows it committed: copies the log's tail when the checkpointer left it
     * one, and wakes the checkpointer when a cycle is due.
     */
    void afterCommit(Connection writer, long rowBytes) {
        // Every commit also writes the last table and index pages again, however little it adds.
        long bytes = rowBytes + 2 * pageSize;
        long total = committedBytes.addAndGet(bytes);
        averageCommitBytes += (bytes - averageCommitBytes) / 16;
        long cycle = Math.min(MAX_CYCLE_BYTES, Math.max(MIN_CYCLE_BYTES, (long) averageCommitBytes * COMMITS_PER_CYCLE));
        if (cycle != cycleBytes) {
            cycleBytes = cycle;
        }
        if (tailWanted) {
            long owed = total - copiedBytes;
            if (owed <= TAIL_BYTES || logBytes + owed >= restartLogBytes) {
                copyTail(writer);
            } else {
                tailWanted = false; // the next cycle copies it in the background and offers the tail again
            }
        }
        if (total - cycleStartBytes >= cycle) {
            LockSupport.unpark(thread);
        }
    }

    private void copyTail(Connection writer) {
        try {
            // Busy only if the checkpointer holds the log; then the tail waits for the next commit.
            if (checkpoint(writer, writerSchema + ".", "PASSIVE")[0] == 0) {
                tailWanted = false;
                writerCheckpoints.incrementAndGet();
            }
        } catch (SQLException e) {
            tailWanted = false;
            log.warn("checkpoint of the log's tail failed: {}", e.getMessage());
        }
    }

    /** Checkpoints run by the checkpointer thread. */
    long checkpoints() {
        return checkpoints.get();
    }

    /** Checkpoints of the log's tail the writer ran between two groups. */
    long writerCheckpoints() {
        return writerCheckpoints.get();
    }

    private void run() {
        long seenBytes = 0;
        long seenAt = System.nanoTime();
        while (running) {
            LockSupport.parkNanos(this, IDLE_NANOS);
            long committed = committedBytes.get();
            long now = System.nanoTime();
            if (committed != seenBytes) {
                seenBytes = committed;
                seenAt = now;
            }
            boolean quiet = now - seenAt >= IDLE_NANOS;
            long since = committed - cycleStartBytes;
            // While the writer still owes the last cycle's tail, a new cycle would hold the log and
            // make the writer's copy fail (busy), and the log would not restart. Unless it is quiet.
            boolean due = tailWanted ? quiet : since >= cycleBytes || (since > 0 && quiet);
            if (!running || !due) {
                continue;
            }
            cycleStartBytes = committed;
            try {
                cycle(quiet);
                if (failing) {
                    failing = false;
                    log.info("checkpoints succeed again");
                }
            } catch (SQLException e) {
                // The writer's commits stay durable in the log, which grows until a cycle succeeds.
                if (!failing) {
                    failing = true;
                    log.warn("checkpoint failed (logged once until one succeeds again): {}", e.getMessage());
                }
            }
        }
    }

    private void cycle(boolean quiet) throws SQLException {
        long[] state;
        int pass = 0;
        do {
            long committed = committedBytes.get();
            state = checkpoint(connection, "", "PASSIVE");
            checkpoints.incrementAndGet();
            if (state[0] == 0) {
                copiedBytes = committed;
                logBytes = state[1] * pageSize;
            }
        } while (++pass < MAX_PASSES_PER_CYCLE && running && (state[1] - state[2]) * pageSize > TAIL_BYTES);
        // Even with all of it copied, only a transaction that begins afterwards restarts the log, and
        // a busy writer's next one may already have begun: the writer copies the rest between two
        // groups, an empty copy if nothing came since. A quiet writer begins afresh anyway.
        tailWanted = !(quiet && state[0] == 0 && state[1] == state[2]);
    }

    /** Runs one checkpoint; returns SQLite's (busy, pages in the log, pages copied). */
    private static long[] checkpoint(Connection connection, String schemaPrefix, String mode) throws SQLException {
        // Unqualified, the writer's connection would checkpoint every attached file.
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA " + schemaPrefix + "wal_checkpoint(" + mode + ")")) {
            return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)} : new long[3];
        }
    }

    /** Stops the thread (a checkpoint under way finishes first) and closes its connection. */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            log.warn("closing the checkpointer's connection: {}", e.getMessage());
        }
    }
}
