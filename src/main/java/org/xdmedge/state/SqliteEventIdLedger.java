package org.xdmedge.state;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.xdmedge.outlet.EventIdLedger;

/**
 * {@link EventIdLedger} of a single node, in its own SQLite file ({@code dedup.sqlite}): stored ids
 * for the dedup window, and the open claims made with a writer tag.
 *
 * <p>A claim with a writer tag is recorded as the Redis ledger records it
 * ({@code P:<process>:<claimed at>:<writer tag>}) and committed before {@link #claim} returns, so
 * before the outlet writes: a process killed after its Kafka commit but before {@link #confirm}
 * leaves the claim on disk. The next process (the data directory lock makes sure the former one is
 * gone) finds those claims at start, holds their ids, and reports them as {@link Holder#ended()},
 * so a retry settles them from the outlet's log at once. Claims without a writer tag stay in
 * memory and run out after the pending time.
 *
 * <p>Writes from concurrent callers are committed together: a caller queues its write, and whichever
 * caller gets the writer commits everything queued meanwhile in one transaction. A transaction that
 * records claims is synced ({@code synchronous=FULL}): the claim must outlast whatever the Kafka
 * commit outlasts, a power loss included. Confirms, releases and settles are not synced
 * ({@code NORMAL}, they survive a process crash): if a power loss forgets one, the claim it ended
 * is still on disk and is settled from the log again.
 */
public final class SqliteEventIdLedger implements EventIdLedger {
    public static final String FILE_NAME = "dedup.sqlite";
    private static final long CLEANUP_INTERVAL_MILLIS = 60_000;

    /** A claim held in memory; {@code value} is null for one without a writer tag (never on disk). */
    private record Pending(String value, long claimedAtMillis, String writerTag, boolean ended, long untilMillis) {
        boolean onDisk() {
            return value != null;
        }
    }

    /** One caller's part of a group commit. */
    private abstract static class Write {
        final boolean sync;
        boolean done;
        SQLException failure;

        Write(boolean sync) {
            this.sync = sync;
        }

        abstract void apply(Connection c) throws SQLException;
    }

    private final Connection reader;
    private final Connection writer;
    private final long windowMillis;
    private final long pendingMillis;
    private final String owner = "P:" + UUID.randomUUID() + ":";
    /** Open claims, this process's and those the former process left; guarded by {@code this}. */
    private final Map<String, Pending> pending = new HashMap<>();
    /** Writes waiting for the next group commit; guarded by itself. */
    private final List<Write> queued = new ArrayList<>();
    /** Held by the caller committing a group. */
    private final Object committing = new Object();
    private boolean writerSynced;
    private long nextCleanup;

    public SqliteEventIdLedger(Path dataDir, long windowMillis, long pendingMillis) throws SQLException {
        this.windowMillis = windowMillis;
        this.pendingMillis = pendingMillis;
        writer = SqliteFiles.open(dataDir, FILE_NAME, false);
        try {
            try (Statement st = writer.createStatement()) {
                st.execute("CREATE TABLE IF NOT EXISTS stored_ids (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID");
                st.execute("CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, holder TEXT NOT NULL, claimed_at INTEGER NOT NULL) WITHOUT ROWID");
                st.execute("DELETE FROM claims WHERE claimed_at <= " + (System.currentTimeMillis() - windowMillis));
                try (ResultSet rs = st.executeQuery("SELECT id, holder, claimed_at FROM claims")) {
                    while (rs.next()) {
                        // P:<process>:<claimed at>:<writer tag>; the tag may itself hold colons.
                        String[] parts = rs.getString(2).split(":", 4);
                        if (parts.length == 4 && !parts[3].isEmpty()) {
                            pending.put(rs.getString(1), new Pending(rs.getString(2), rs.getLong(3), parts[3], true, Long.MAX_VALUE));
                        }
                    }
                }
            }
            writer.setAutoCommit(false);
            // Reads see each committed write at once; they never wait for a group commit.
            Connection r = SqliteFiles.open(dataDir, FILE_NAME, false);
            reader = r;
        } catch (SQLException e) {
            writer.close();
            throw e;
        }
    }

    /** How many claims the former process left open (settled by retries from the log). */
    public synchronized int leftOpen() {
        return (int) pending.values().stream().filter(Pending::ended).count();
    }

    @Override
    public List<Claim> claim(List<String> keys) {
        return claim(keys, null);
    }

    @Override
    public List<Claim> claim(List<String> keys, String writerTag) {
        long now = System.currentTimeMillis();
        List<Claim> out = new ArrayList<>(keys.size());
        Map<String, Pending> mine = new LinkedHashMap<>();
        synchronized (this) {
            try (PreparedStatement st = reader.prepareStatement("SELECT expires_at FROM stored_ids WHERE id = ?")) {
                for (String key : keys) {
                    Pending held = pending.get(key);
                    if (held != null && held.untilMillis() > now) {
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
                        Pending p = writerTag == null
                                ? new Pending(null, now, null, false, now + pendingMillis)
                                : new Pending(owner + now + ":" + writerTag, now, writerTag, false, Long.MAX_VALUE);
                        pending.put(key, p);
                        mine.put(key, p);
                        out.add(Claim.CLAIMED);
                    }
                }
            } catch (SQLException e) {
                mine.keySet().forEach(pending::remove);
                throw new IllegalStateException("dedup ledger read failed: " + e.getMessage(), e);
            }
        }
        if (writerTag != null && !mine.isEmpty()) {
            try {
                commit(new Write(true) {
                    @Override
                    void apply(Connection c) throws SQLException {
                        try (PreparedStatement st = c.prepareStatement("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)")) {
                            for (Map.Entry<String, Pending> e : mine.entrySet()) {
                                st.setString(1, e.getKey());
                                st.setString(2, e.getValue().value());
                                st.setLong(3, e.getValue().claimedAtMillis());
                                st.addBatch();
                            }
                            st.executeBatch();
                        }
                    }
                });
            } catch (SQLException e) {
                // Not on disk: the outlet must not write, so the claims are dropped and the request fails.
                synchronized (this) {
                    mine.forEach(pending::remove);
                }
                throw new IllegalStateException("dedup ledger write failed: " + e.getMessage(), e);
            }
        }
        return out;
    }

    @Override
    public synchronized Map<String, Holder> holders(List<String> keys) {
        Map<String, Holder> out = new LinkedHashMap<>();
        for (String key : keys) {
            Pending p = pending.get(key);
            if (p != null && p.onDisk()) {
                out.put(key, new Holder(p.value(), p.claimedAtMillis(), p.writerTag(), !p.ended(), p.ended()));
            }
        }
        return out;
    }

    @Override
    public void settle(Map<String, Holder> stored, Map<String, Holder> absent) {
        Map<String, Holder> both = new HashMap<>(stored);
        both.putAll(absent);
        Map<String, Pending> still = stillHeld(both);
        if (still.isEmpty()) {
            return;
        }
        long expiresAt = System.currentTimeMillis() + windowMillis;
        try {
            commit(new Write(false) {
                @Override
                void apply(Connection c) throws SQLException {
                    insertStored(c, still.keySet().stream().filter(stored::containsKey).toList(), expiresAt);
                    deleteClaims(c, still);
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException("dedup ledger write failed: " + e.getMessage(), e);
        }
        forget(still);
    }

    @Override
    public void confirm(List<String> keys) {
        long now = System.currentTimeMillis();
        Map<String, Pending> held = held(keys);
        boolean cleanup;
        synchronized (this) {
            cleanup = now >= nextCleanup;
            if (cleanup) {
                nextCleanup = now + CLEANUP_INTERVAL_MILLIS;
                // A claim outlives the window only if nobody retried it: by then a retry is no longer deduplicated anyway.
                pending.values().removeIf(p -> p.untilMillis() <= now || p.claimedAtMillis() <= now - windowMillis);
            }
        }
        try {
            commit(new Write(false) {
                @Override
                void apply(Connection c) throws SQLException {
                    insertStored(c, keys, now + windowMillis);
                    deleteClaims(c, held);
                    if (cleanup) {
                        try (PreparedStatement del = c.prepareStatement("DELETE FROM stored_ids WHERE expires_at <= ?")) {
                            del.setLong(1, now);
                            del.executeUpdate();
                        }
                        try (PreparedStatement del = c.prepareStatement("DELETE FROM claims WHERE claimed_at <= ?")) {
                            del.setLong(1, now - windowMillis);
                            del.executeUpdate();
                        }
                    }
                }
            });
        } catch (SQLException e) {
            // The claims stay held: a retry settles them from the log (or waits for them to run out) rather than store twice.
            throw new IllegalStateException("dedup ledger write failed: " + e.getMessage(), e);
        }
        forget(held);
    }

    @Override
    public void release(List<String> keys) {
        Map<String, Pending> held = held(keys);
        Map<String, Pending> onDisk = new HashMap<>(held);
        onDisk.values().removeIf(p -> !p.onDisk());
        if (!onDisk.isEmpty()) {
            try {
                commit(new Write(false) {
                    @Override
                    void apply(Connection c) throws SQLException {
                        deleteClaims(c, onDisk);
                    }
                });
            } catch (SQLException e) {
                // Still on disk, so still held: a retry settles them from the log.
                throw new IllegalStateException("dedup ledger write failed: " + e.getMessage(), e);
            }
        }
        // Only after the delete: a new claim of the same id must not be deleted with the old one.
        forget(held);
    }

    private synchronized Map<String, Pending> held(List<String> keys) {
        Map<String, Pending> out = new HashMap<>();
        for (String key : keys) {
            Pending p = pending.get(key);
            if (p != null) {
                out.put(key, p);
            }
        }
        return out;
    }

    private synchronized Map<String, Pending> stillHeld(Map<String, Holder> holders) {
        Map<String, Pending> out = new HashMap<>();
        holders.forEach((key, h) -> {
            Pending p = pending.get(key);
            if (p != null && h.value().equals(p.value())) {
                out.put(key, p);
            }
        });
        return out;
    }

    /** Drops the in-memory claims that are still the given ones. */
    private synchronized void forget(Map<String, Pending> claims) {
        claims.forEach((key, p) -> pending.remove(key, p));
    }

    private static void insertStored(Connection c, List<String> keys, long expiresAt) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        try (PreparedStatement st = c.prepareStatement("INSERT OR REPLACE INTO stored_ids VALUES (?, ?)")) {
            for (String key : keys) {
                st.setString(1, key);
                st.setLong(2, expiresAt);
                st.addBatch();
            }
            st.executeBatch();
        }
    }

    private static void deleteClaims(Connection c, Map<String, Pending> claims) throws SQLException {
        boolean any = false;
        try (PreparedStatement st = c.prepareStatement("DELETE FROM claims WHERE id = ? AND holder = ?")) {
            for (Map.Entry<String, Pending> e : claims.entrySet()) {
                if (e.getValue().onDisk()) {
                    st.setString(1, e.getKey());
                    st.setString(2, e.getValue().value());
                    st.addBatch();
                    any = true;
                }
            }
            if (any) {
                st.executeBatch();
            }
        }
    }

    /**
     * Commits {@code write}, together with whatever other callers queued meanwhile: the caller that
     * takes the writer commits the whole queue in one transaction; the others find theirs done.
     */
    private void commit(Write write) throws SQLException {
        synchronized (queued) {
            queued.add(write);
        }
        synchronized (committing) {
            List<Write> group;
            synchronized (queued) {
                if (write.done) {
                    if (write.failure != null) {
                        throw write.failure;
                    }
                    return;
                }
                group = new ArrayList<>(queued);
                queued.clear();
            }
            SQLException failure = null;
            try {
                boolean sync = group.stream().anyMatch(w -> w.sync);
                if (sync != writerSynced) {
                    // SQLite changes the safety level only outside a transaction.
                    writer.setAutoCommit(true);
                    try (Statement st = writer.createStatement()) {
                        st.execute(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
                    }
                    writer.setAutoCommit(false);
                    writerSynced = sync;
                }
                for (Write w : group) {
                    w.apply(writer);
                }
                writer.commit();
            } catch (SQLException e) {
                failure = e;
                try {
                    writer.rollback();
                } catch (SQLException ignored) {
                    // the transaction is gone either way
                }
            }
            synchronized (queued) {
                for (Write w : group) {
                    w.failure = failure;
                    w.done = true;
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    @Override
    public boolean ready() {
        return true;
    }

    @Override
    public void close() {
        synchronized (committing) {
            synchronized (this) {
                try {
                    reader.close();
                } catch (SQLException e) {
                    // closing anyway
                }
                try {
                    writer.close();
                } catch (SQLException e) {
                    // closing anyway
                }
            }
        }
    }
}
