package org.xdmedge.store.ids;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.StoredEvent;

/**
 * The event store's dedup index: which {@code (datastream, _id)} pairs are stored, in hash tables
 * ({@link IdTable}) memory-mapped from {@code <data>/ids/}. This class is the writer's side: the
 * event writer claims a group's ids in memory, appends the new events to the {@code EventLog},
 * and {@link #commit}s once the log reached the disk; a request that fails alone is undone back
 * to its {@link #mark}.
 *
 * <p>Why hash tables and not a B-tree: clients make random ids (alloy and the Mobile SDKs send
 * UUIDv4s), so in a B-tree every new id lands on its own leaf and each commit writes a page per
 * id. A claim here is a probe or two into mapped memory per table.
 *
 * <p>Keys: a canonical UUID is its 128 bits (upper- and lower-case spellings stay different ids,
 * as when the text was the key); any other id is the first 128 bits of its SHA-256. With them, 64
 * bits of the datastream id's SHA-256 and the kind.
 *
 * <p>Tables ({@link IdTableSet}): claims go into one <em>hot</em> table, which grows by doubling
 * up to {@code 2^hotSlotBits} slots (64 MiB at the default {@value #HOT_SLOT_BITS}); when it is
 * half full the next one (made ahead by the {@link IdIndexMaintainer}) takes over and it is
 * <em>sealed</em>. Sealed tables take no claims; the {@link IdTableMerger} merges them so their
 * sizes grow with age and a lookup probes a few. Why: a table that took every claim would grow
 * with the store, each claim would dirty a random page of a gigabyte or more, and every
 * checkpoint would write them back, a 4 KB page per 32-byte claim; the hot table's pages stay few
 * and dirty, and merges write each page once.
 *
 * <p>Durability ({@link IdIndexCheckpoints}): nothing is forced per commit, since the index is
 * derived from the log; the maintainer checkpoints every {@link #DEFAULT_CHECKPOINT_MILLIS} ms,
 * and opening after a crash removes what the last checkpoint does not cover and claims the log's
 * events after it again.
 *
 * <p>Threads: every method but the metrics, {@link #retainFrom}, {@link #deleted} and {@link #close} belongs to the
 * single event writer (and to the opening thread before it starts). The undo log and the key
 * cache are the writer's alone; what the other threads read is in {@link IdTableSet}.
 */
public final class EventIdIndex implements AutoCloseable {
    static final String DIRECTORY = "ids";
    /** Bounds what a start after a crash reads again: at 150k events/s, 1.5M events. */
    public static final long DEFAULT_CHECKPOINT_MILLIS = Long.getLong("xdmedge.idsCheckpointMillis", 10_000);
    static final int FIRST_SLOT_BITS = 16;
    /**
     * The hot table stops growing at 2^21 slots (a 64 MiB file, 1M claims before it is sealed):
     * small enough that its pages stay in memory and mostly dirty between checkpoints, large
     * enough that sealing (and merging) happens every few seconds at full rate. The system
     * property {@code xdmedge.idsHotSlotBits} is for experiments.
     */
    static final int HOT_SLOT_BITS = Integer.getInteger("xdmedge.idsHotSlotBits", 21);
    private static final long KIND_LOWER_UUID = 0;
    private static final long KIND_UPPER_UUID = 1;
    private static final long KIND_TEXT = 2;
    private static final Logger log = LoggerFactory.getLogger(EventIdIndex.class);

    private final IdTableSet tables;
    private final IdIndexCheckpoints checkpoints;
    private final IdTableMerger merger;
    private final Map<String, Long> datastreamKeys = new HashMap<>();
    private final MessageDigest sha256;
    private final long[] uuid = new long[2];
    /** The claims since the last commit, newest last: table, slot, and the sequence number it held (0: empty). */
    private IdTable[] undoTables = new IdTable[256];
    private long[] undoSlots = new long[256];
    private long[] undoSeqs = new long[256];
    private int undoSize;
    /** The tables' ids as of the last commit, for {@link #ids}. */
    private volatile long committedIds;
    private Thread maintainerThread;
    private Thread mergerThread;

    private EventIdIndex(IdTableSet tables) {
        this.tables = tables;
        this.checkpoints = new IdIndexCheckpoints(tables);
        this.merger = new IdTableMerger(tables);
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Opens (creating if need be) the index under {@code dataDir}, brings it up to date with the
     * event log there (which ends at {@code logLastSeq}), and starts its maintainer and merger threads.
     */
    public static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis, LoggedIds logged)
            throws IOException {
        return open(dataDir, logLastSeq, checkpointMillis, logged, new long[0]);
    }

    /** As above, with the sequence numbers of the deleted events ({@link #deleted}), ascending. */
    public static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis, LoggedIds logged,
                                    long[] deleted) throws IOException {
        return open(dataDir, logLastSeq, checkpointMillis, logged, FIRST_SLOT_BITS, HOT_SLOT_BITS, deleted);
    }

    /** As {@link #open(Path, long, long, LoggedIds)}, with the first and the largest hot table's slot bits (tests). */
    static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis, LoggedIds logged,
                             int firstSlotBits, int hotSlotBits)
            throws IOException {
        return open(dataDir, logLastSeq, checkpointMillis, logged, firstSlotBits, hotSlotBits, new long[0]);
    }

    static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis, LoggedIds logged,
                             int firstSlotBits, int hotSlotBits, long[] deleted)
            throws IOException {
        Path directory = dataDir.resolve(DIRECTORY);
        Files.createDirectories(directory);
        EventIdIndex index = new EventIdIndex(new IdTableSet(directory, firstSlotBits, hotSlotBits));
        index.deleted(deleted); // before the log's ids are claimed again and before any merge
        try {
            long trusted = index.checkpoints.recover(logLastSeq);
            index.claimLog(logged, trusted, logLastSeq);
            index.commit(logLastSeq);
            index.checkpoints.covered(trusted);
        } catch (IOException | RuntimeException e) {
            index.tables.closeTables();
            throw e;
        }
        index.maintainerThread = new IdIndexMaintainer(index.tables, index.checkpoints, checkpointMillis).start();
        index.mergerThread = index.merger.start();
        return index;
    }

    /** Claims the ids of the log's events after {@code trusted}, which the tables may not hold. */
    private void claimLog(LoggedIds logged, long trusted, long logLastSeq) throws IOException {
        if (trusted >= logLastSeq) {
            return;
        }
        log.info("adding the ids of events {}..{} to the event-id index", trusted + 1, logLastSeq);
        long[] added = {0};
        logged.scan(trusted, (seq, datastreamId, eventId) -> {
            if (seq <= logLastSeq && claim(datastreamId, eventId, seq, false)) {
                added[0]++;
            }
            if (undoSize > 1 << 16) {
                commit(seq); // nothing here is undone: no need to remember it
            }
        });
        log.info("event-id index: {} ids added", added[0]);
    }

    /** The sequence number the last checkpoint under {@code dataDir} recorded as covered (0: none). */
    public static long coveredOnDisk(Path dataDir) throws IOException {
        return IdIndexCheckpoints.coveredOnDisk(dataDir);
    }

    /**
     * Claims the event's id for sequence number {@code seq}: true if it was not stored before (the
     * event is then stored with {@code seq}), false for a duplicate. Undone by {@link #rollbackTo}
     * or {@link #rollback} until {@link #commit}.
     */
    public boolean claim(StoredEvent event, long seq) {
        return claim(event.datastreamId(), event.eventId(), seq, true);
    }

    /**
     * {@code sealedTables}: false only while claiming the log's own events on open, which are
     * unique and above everything the tables kept, so only the hot table is probed (for a slot).
     */
    private boolean claim(String datastreamId, String eventId, long seq, boolean sealedTables) {
        IdTable into = roomyHot();
        long key = datastreamKey(datastreamId);
        int letterCase = packUuid(eventId, uuid);
        if (letterCase >= 0) {
            key |= letterCase == 1 ? KIND_UPPER_UUID : KIND_LOWER_UUID;
        } else {
            byte[] digest = sha256.digest(eventId.getBytes(StandardCharsets.UTF_8));
            ByteBuffer bits = ByteBuffer.wrap(digest);
            uuid[0] = bits.getLong();
            uuid[1] = bits.getLong();
            key |= KIND_TEXT;
        }
        long hi = uuid[0];
        long lo = uuid[1];
        long hash = IdTable.hash(hi, lo, key, tables.seed);
        long slot = into.find(hash, hi, lo, key);
        if (slot >= 0) {
            // Claimed, unless by a deleted event: then it claims this one (only a duplicate pays the look-up).
            long had = into.seq(slot);
            long[] deleted = tables.deleted;
            if (!IdTableSet.isDeleted(deleted, had)) {
                return false;
            }
            into.setSeq(slot, seq);
            remember(into, slot, had);
            return true;
        }
        if (sealedTables) {
            IdTable[] view = tables.view; // [0] is `into`
            for (int t = 1; t < view.length; t++) {
                long found = view[t].find(hash, hi, lo, key);
                if (found >= 0) {
                    // The newest entry of an id decides: an older one's event was deleted before it was made.
                    if (!IdTableSet.isDeleted(tables.deleted, view[t].seq(found))) {
                        return false;
                    }
                    break;
                }
            }
        }
        long empty = -slot - 1;
        into.put(empty, hi, lo, key, seq);
        remember(into, empty, 0);
        return true;
    }

    private void remember(IdTable table, long slot, long had) {
        if (undoSize == undoSlots.length) {
            undoSlots = Arrays.copyOf(undoSlots, undoSize * 2);
            undoTables = Arrays.copyOf(undoTables, undoSize * 2);
            undoSeqs = Arrays.copyOf(undoSeqs, undoSize * 2);
        }
        undoTables[undoSize] = table;
        undoSeqs[undoSize] = had;
        undoSlots[undoSize++] = slot;
    }

    /** A point to undo to with {@link #rollbackTo}: the claims made after it. */
    public int mark() {
        return undoSize;
    }

    /** Undoes the claims made since {@code mark}, newest first. */
    public void rollbackTo(int mark) {
        for (int i = undoSize - 1; i >= mark; i--) {
            if (undoSeqs[i] == 0) {
                undoTables[i].clearNewest(undoSlots[i]);
            } else {
                undoTables[i].setSeq(undoSlots[i], undoSeqs[i]);
            }
            undoTables[i] = null;
        }
        undoSize = mark;
    }

    /** Undoes every claim since the last {@link #commit}. */
    public void rollback() {
        rollbackTo(0);
    }

    /** Keeps the claims made so far: every event up to {@code lastSeq} is in the log. */
    public void commit(long lastSeq) {
        Arrays.fill(undoTables, 0, undoSize, null);
        undoSize = 0;
        tables.committedThrough = lastSeq;
        long ids = 0;
        IdTable[] view = tables.view;
        for (IdTable table : view) {
            ids += table.count();
        }
        committedIds = ids;
        if (tables.hotAtCommit != view[0]) {
            tables.hotAtCommit = view[0];
            tables.wake(); // a sealed table may be merged now
        }
        tables.commits++; // the writer's alone: no lost update
    }

    /**
     * The ids the tables held at the last commit (an id in a merged table and in a source not yet
     * retired counts once: the swap is atomic); kept by {@link #commit}, so a metrics scrape reads
     * one volatile instead of the writer's counts.
     */
    public long ids() {
        return committedIds;
    }

    /** The tables' files, all of which claims want in memory (see {@link IdIndexCheckpoints#warm}). */
    public long tableBytes() {
        return IdTableSet.totalBytes(List.of(tables.view));
    }

    /** The tables a claim probes now. */
    public int tables() {
        return tables.view.length;
    }

    /** Checkpoints run by the maintainer thread (and the last one at close). */
    public long checkpoints() {
        return checkpoints.count();
    }

    /** The sequence number the last checkpoint covers (see {@code SegmentRetention}). */
    public long covered() {
        return checkpoints.covered();
    }

    /**
     * The log no longer holds the events below {@code seq} (retention deleted them): merges of
     * sealed tables leave their ids out from now on, so a retry of one is stored again.
     */
    public void retainFrom(long seq) {
        if (seq > tables.retainedFrom) {
            tables.retainedFrom = seq;
        }
    }

    /**
     * The events of these sequence numbers (ascending: every deleted event, the earlier ones
     * included) were deleted by privacy jobs: their ids claim nothing from now on, so the same id
     * sent again is stored again, and merges leave them out. Any thread; the lists on disk
     * ({@code DeletedEvents}) are the record, given again at each open.
     */
    public void deleted(long[] seqs) {
        long[] sorted = seqs.clone();
        Arrays.sort(sorted);
        tables.deleted = sorted;
    }

    /** Merges made by the merger thread. */
    public long merges() {
        return merger.merges();
    }

    /**
     * The table new claims go into: past half full, the next takes over (made ahead by the
     * maintainer once the hot one is a quarter full) and the full one is sealed. Only when that is
     * not ready by the time the hot one is three quarters full does the writer make it itself.
     */
    private IdTable roomyHot() {
        IdTable current = tables.hot;
        long count = current.count();
        long capacity = current.capacity();
        if (count < capacity / 4) {
            return current;
        }
        if (count < capacity / 2) {
            if (!tables.prepareWanted) {
                tables.prepareWanted = true;
                tables.wake();
            }
            return current;
        }
        if (tables.prepared.get() == null && count < capacity / 4 * 3) {
            return current;
        }
        IdTable next = takePrepared(current);
        synchronized (tables.makeLock) {
            tables.sealed.add(0, current);
            tables.hot = next;
            tables.publishView();
        }
        tables.prepareWanted = false;
        log.debug("event-id index: claims go into {} now; {} sealed ({} of {} slots full)",
                next.file().getFileName(), current.file().getFileName(), count, capacity);
        return next;
    }

    /** The next hot table: the one made ahead if it is ready and numbered after {@code current}, else made now. */
    private IdTable takePrepared(IdTable current) {
        IdTable next = tables.prepared.getAndSet(null);
        if (next != null && next.order() < current.order()) {
            // Made ahead while the writer, not waiting for it, made the current one: numbered (and
            // so ordered) before it. Tables take claims in the order of their numbers, so it goes.
            IdTableSet.discard(next);
            next = null;
        }
        if (next != null) {
            return next;
        }
        if (maintainerThread != null) { // while opening, before it starts, the writer always makes them
            log.warn("the next event-id table was not ready in time; the writer makes it");
        }
        try {
            return tables.makeTable(tables.nextHotSlotBits(current));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the next event-id table: " + e.getMessage(), e);
        }
    }

    private long datastreamKey(String datastreamId) {
        Long key = datastreamKeys.get(datastreamId);
        if (key == null) {
            byte[] digest = sha256.digest(("datastream\0" + datastreamId).getBytes(StandardCharsets.UTF_8));
            key = ByteBuffer.wrap(digest).getLong() & ~3L; // the low two bits hold the kind
            datastreamKeys.put(datastreamId, key);
        }
        return key;
    }


    /**
     * Packs a UUID written in canonical form (8-4-4-4-12 hex digits, letters all lower or all upper
     * case) into {@code out}; returns 0 (lower case or no letters), 1 (upper case) or -1 (any
     * other text, which keeps its text as the key).
     */
    static int packUuid(String id, long[] out) {
        if (id == null || id.length() != 36 || id.charAt(8) != '-' || id.charAt(13) != '-' || id.charAt(18) != '-'
                || id.charAt(23) != '-') {
            return -1;
        }
        // Per character: its digit's value, with bit 4 set for a lower-case letter and bit 5 for an
        // upper-case one; -1 for anything else. A table lookup, as this runs for every claimed id.
        int seen = 0;
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                continue;
            }
            char c = id.charAt(i);
            int d = c < 128 ? HEX_DIGITS[c] : -1;
            seen |= d;
            if (i < 18) {
                hi = hi << 4 | (d & 15);
            } else {
                lo = lo << 4 | (d & 15);
            }
        }
        if (seen < 0 || (seen & 0x30) == 0x30) {
            return -1; // not a hex digit, or letters of both cases
        }
        out[0] = hi;
        out[1] = lo;
        return (seen & 0x20) != 0 ? 1 : 0;
    }

    private static final int[] HEX_DIGITS = new int[128];

    static {
        Arrays.fill(HEX_DIGITS, -1);
        for (int d = 0; d < 10; d++) {
            HEX_DIGITS['0' + d] = d;
        }
        for (int d = 0; d < 6; d++) {
            HEX_DIGITS['a' + d] = 10 + d | 0x10;
            HEX_DIGITS['A' + d] = 10 + d | 0x20;
        }
    }

    /**
     * Stops the maintainer and the merger and, once the writer has stopped, forces the tables and
     * records a clean checkpoint, unless {@code deadlineNanos} (what is left of a graceful stop's
     * grace period) passes first: then the next start claims the ids of the events since the last
     * checkpoint again, as after a crash. Then closes the files.
     */
    public void close(long deadlineNanos) {
        tables.closing = true;
        tables.wake();
        boolean stopped = true;
        for (Thread thread : new Thread[] {maintainerThread, mergerThread}) { // a merge gives up within a step
            if (thread != null) {
                try {
                    thread.join(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                stopped &= !thread.isAlive();
            }
        }
        try {
            if (!stopped || !checkpoints.checkpoint(true, deadlineNanos)) {
                log.info("the event-id index's last checkpoint did not finish within the grace period; "
                        + "the next start claims the ids of the events since the one before again");
            }
            if (stopped) {
                tables.deleteRetired(true); // the writer has stopped: nothing probes them
            }
        } catch (IOException | RuntimeException e) {
            log.warn("the event-id index's last checkpoint failed; the next start claims the log's recent ids again: {}",
                    e.toString());
        }
        tables.closeTables();
    }

    /** Closes with no deadline (the writer has stopped, or never started). */
    @Override
    public void close() {
        close(System.nanoTime() + Long.MAX_VALUE / 2);
    }
}
