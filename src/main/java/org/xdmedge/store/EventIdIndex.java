package org.xdmedge.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event store's dedup index: which {@code (datastream, _id)} pairs are stored, in hash tables
 * ({@link IdTable}) memory-mapped from {@code <data>/ids/}. The event writer claims a group's ids
 * in memory, appends the new events to the {@link EventLog}, and {@link #commit}s once the log
 * reached the disk; a request that fails alone is undone back to its {@link #mark}.
 *
 * <p>Why not a B-tree: clients make random ids (alloy and the Mobile SDKs send UUIDv4s), so every
 * new id landed on its own leaf of the former SQLite index, and each commit wrote every dirtied
 * page to its log and again into the file (docs/PERFORMANCE.md, seventh round). A claim here is a
 * probe or two into mapped memory per table.
 *
 * <p>Keys: a canonical UUID is its 128 bits (upper- and lower-case spellings stay different ids,
 * as when the text was the key); any other id is the first 128 bits of its SHA-256. With them, 64
 * bits of the datastream id's SHA-256 and the kind.
 *
 * <p>Tables: claims go into one <em>hot</em> table, which grows by doubling up to {@code
 * 2^hotSlotBits} slots (64 MiB at the default {@value #HOT_SLOT_BITS}); when it is half full the
 * next one (made ahead as zeros by the maintainer thread) takes over and it is <em>sealed</em>.
 * Sealed tables take no claims; the merger thread merges the newest of them into one ({@link
 * IdTableMerge}), written in order, once) whenever the next older one is at most {@value
 * #MERGE_RATIO} times their ids, so their sizes grow with age and a lookup probes a few. Why: a
 * table that took every claim grew with the store, each claim then dirtied a random page of a
 * gigabyte or more, and every checkpoint cleaned them again: on a store of 10M events the writer
 * took ~0.7 page faults per event and the disk wrote a 4 KB page back per 32-byte claim (ninth
 * round); the hot table's pages stay few and dirty, and merges write each page once.
 *
 * <p>The index is derived from the event log, so nothing here is forced per commit. The
 * maintainer thread checkpoints every {@link #DEFAULT_CHECKPOINT_MILLIS} ms (10 s; the system
 * property {@code xdmedge.idsCheckpointMillis} is for experiments): it forces the tables changed
 * since, then records in {@value #CHECKPOINT} the last sequence number whose id they hold.
 * Opening after a crash removes every entry above that number (its event may be one the log
 * lost) and claims the log's events after it again; after a clean close nothing has to be read.
 */
final class EventIdIndex implements AutoCloseable {
    static final String DIRECTORY = "ids";
    static final String CHECKPOINT = "checkpoint";
    /** Bounds what a start after a crash reads again: at 150k events/s, 1.5M events. */
    static final long DEFAULT_CHECKPOINT_MILLIS = Long.getLong("xdmedge.idsCheckpointMillis", 10_000);
    static final int FIRST_SLOT_BITS = 16;
    /**
     * The hot table stops growing at 2^21 slots (a 64 MiB file, 1M claims before it is sealed):
     * small enough that its pages stay in memory and mostly dirty between checkpoints, large
     * enough that sealing (and merging) happens every ~8 s at 128k events/s. The system property
     * {@code xdmedge.idsHotSlotBits} is for experiments.
     */
    static final int HOT_SLOT_BITS = Integer.getInteger("xdmedge.idsHotSlotBits", 21);
    /**
     * The rate the maintainer and the merger write at (new tables' zeros, checkpoints, merges), in
     * bytes per second: a sixth or so of what this kind of disk takes, so the events' commits rarely
     * wait behind a step (docs/PERFORMANCE.md, eleventh round). The system property {@code
     * xdmedge.idsWriteBytesPerSecond} is for experiments (0: unpaced).
     */
    static final long BACKGROUND_WRITE_BYTES_PER_SECOND = Long.getLong("xdmedge.idsWriteBytesPerSecond", 64L << 20);
    /** Merged tables stop growing at 2^28 slots (8 GiB files, ~190M ids each); beyond, they add up. */
    static final int LARGEST_SLOT_BITS = 28;
    /**
     * The newest sealed tables are merged while the next older one holds at most this many times
     * their ids: sizes then at least double with age, so there are about log2(ids / 1M) sealed
     * tables, and each id is rewritten a few times over its life (sequentially, 32 bytes a slot).
     */
    static final int MERGE_RATIO = 2;
    /** A merged table is the smallest whose slots its ids fill to at most 70%. */
    private static final double MERGED_LOAD = 0.7;
    private static final long CHECKPOINT_MAGIC = 0x58444d2d49444b31L; // "XDM-IDK1"
    private static final int CHECKPOINT_BYTES = 28;
    private static final long KIND_LOWER_UUID = 0;
    private static final long KIND_UPPER_UUID = 1;
    private static final long KIND_TEXT = 2;
    private static final Logger log = LoggerFactory.getLogger(EventIdIndex.class);

    private final Path directory;
    private final long checkpointMillis;
    private final int firstSlotBits;
    private final int hotSlotBits;
    /** The hash seed every table of the index shares (so a merge reads its sources in order). */
    private long seed;
    /** The table claims go into: the writer's; replaced under {@link #makeLock}. */
    private IdTable hot;
    /** The sealed tables, newest first; under {@link #makeLock}. */
    private final List<IdTable> sealed = new ArrayList<>();
    /** The hot table, then the sealed ones newest first: what a claim probes; published under {@link #makeLock}. */
    private volatile IdTable[] view;
    private final Map<String, Long> datastreamKeys = new HashMap<>();
    private final MessageDigest sha256;
    private final long[] uuid = new long[2];
    /** The claims since the last commit, newest last: table and slot. */
    private IdTable[] undoTables = new IdTable[256];
    private long[] undoSlots = new long[256];
    private int undoSize;
    /** The last sequence number whose claim is committed (its event is in the log). */
    private volatile long committedThrough;
    /** The tables' ids as of the last commit, for {@link #ids}. */
    private volatile long committedIds;
    /** Commits so far: a table the writer stopped looking at before one is safe to unmap after it. */
    private volatile long commits;
    /** The sequence number the last checkpoint covers: the retention of the log keeps every event above it. */
    private volatile long checkpointed;
    /** Retention deleted the events below this sequence number: merges leave their ids out. */
    private volatile long retainedFrom;
    private final AtomicLong checkpoints = new AtomicLong();
    private final AtomicLong merges = new AtomicLong();
    /** The next table file's number. */
    private final AtomicLong nextNumber = new AtomicLong(1);
    /** Held while the tables change: the writer seals the hot one, the merger swaps in a merge. */
    private final Object makeLock = new Object();
    /** Wakes the maintainer and the merger: a next hot table is wanted, a table was sealed, or the index closes. */
    private final Object signal = new Object();
    /** The next hot table, made ahead by the maintainer, until the writer takes it. */
    private final java.util.concurrent.atomic.AtomicReference<IdTable> prepared = new java.util.concurrent.atomic.AtomicReference<>();
    /**
     * The hot table as of the writer's last commit: once it is the hot table, no sealed table has
     * a claim left to undo, so sealed tables may be merged and settled.
     */
    private volatile IdTable hotAtCommit;
    /** Tables a merged one replaced: unmapped and deleted by the maintainer once the writer committed after the swap. */
    private record Retired(IdTable table, long afterCommits) {}
    private final java.util.concurrent.ConcurrentLinkedQueue<Retired> retired = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile boolean prepareWanted;
    private volatile boolean closing;
    private Thread maintainer;
    private Thread merger;
    private final WritePace backgroundPace = new WritePace(BACKGROUND_WRITE_BYTES_PER_SECOND, () -> closing);

    private EventIdIndex(Path directory, long checkpointMillis, int firstSlotBits, int hotSlotBits) {
        this.directory = directory;
        this.checkpointMillis = checkpointMillis;
        this.firstSlotBits = Math.min(firstSlotBits, hotSlotBits);
        this.hotSlotBits = hotSlotBits;
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
    static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis) throws IOException {
        return open(dataDir, logLastSeq, checkpointMillis, FIRST_SLOT_BITS, HOT_SLOT_BITS);
    }

    /** As {@link #open(Path, long, long)}, with the first and the largest hot table's slot bits (tests). */
    static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis, int firstSlotBits, int hotSlotBits)
            throws IOException {
        Path directory = dataDir.resolve(DIRECTORY);
        Files.createDirectories(directory);
        EventIdIndex index = new EventIdIndex(directory, checkpointMillis, firstSlotBits, hotSlotBits);
        try {
            index.load(dataDir, logLastSeq);
        } catch (IOException | RuntimeException e) {
            index.closeTables();
            throw e;
        }
        index.maintainer = new Thread(index::maintain, "event-id-index");
        index.maintainer.setDaemon(true);
        index.maintainer.start();
        index.merger = new Thread(index::mergeLoop, "event-id-merge");
        index.merger.setDaemon(true);
        index.merger.start();
        return index;
    }

    private void load(Path dataDir, long logLastSeq) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            for (Path tmp : files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList()) {
                Files.delete(tmp); // a table or checkpoint whose making a crash interrupted
            }
        }
        List<Path> files = tableFiles();
        Checkpoint checkpoint = readCheckpoint(!files.isEmpty());
        if (!files.isEmpty() && Math.min(checkpoint.covered(), logLastSeq) == 0
                && (!checkpoint.clean() || checkpoint.covered() > logLastSeq)) {
            // Every entry would have to be removed one by one (holding their keys): make them anew instead.
            log.warn("event-id index: no checkpoint covers any event of the log; the tables are rebuilt from it");
            files = deleteTables(files, List.of());
        }
        List<IdTable> opened = new ArrayList<>();
        try {
            files = openTables(files, opened);
            files = dropSuperseded(files, opened);
            seed = opened.isEmpty() ? new java.security.SecureRandom().nextLong() : opened.get(0).seed();
            nextNumber.set(files.isEmpty() ? 1 : tableNumber(files.get(files.size() - 1)) + 1);
            // The newest table that took claims before (not a merged one) takes them again, if not too large.
            int hotAt = -1;
            for (int i = 0; i < opened.size(); i++) {
                if (!opened.get(i).merged() && opened.get(i).slotBits() <= hotSlotBits) {
                    hotAt = i;
                }
            }
            hot = hotAt >= 0 ? opened.remove(hotAt) : makeTable(firstSlotBits);
        } catch (IOException | RuntimeException e) {
            for (IdTable table : opened) {
                table.close(); // the caller closes the hot table, if there is one
            }
            throw e;
        }
        if (files.isEmpty()) {
            // No table (new, damaged, or deleted beside its checkpoint): it covers nothing, and
            // every event in the log is claimed (nothing is there to remove).
            checkpoint = new Checkpoint(0, true);
        }
        opened.sort(java.util.Comparator.comparingLong(IdTable::order).reversed());
        sealed.addAll(opened);
        publishView();
        List<IdTable> oldestFirst = new ArrayList<>(List.of(view));
        java.util.Collections.reverse(oldestFirst);
        warm(oldestFirst, memoryBytes());
        long trusted = Math.min(checkpoint.covered(), logLastSeq);
        // From here until the next checkpoint, a crash leaves entries above `trusted` to be removed.
        writeCheckpoint(trusted, false);
        if (!checkpoint.clean() || checkpoint.covered() > logLastSeq) {
            removeAbove(trusted);
            // Removing moves entries within runs: forced, so a second crash cannot keep half a move.
            for (IdTable table : view) {
                table.force();
            }
        }
        dropEmptySealed();
        if (trusted < logLastSeq) {
            log.info("adding the ids of events {}..{} to the event-id index", trusted + 1, logLastSeq);
            long[] added = {0};
            EventLog.scanIds(dataDir, trusted, (seq, datastreamId, eventId) -> {
                if (seq <= logLastSeq && claim(datastreamId, eventId, seq, false)) {
                    added[0]++;
                }
                if (undoSize > 1 << 16) {
                    commit(seq); // nothing here is undone: no need to remember it
                }
            });
            log.info("event-id index: {} ids added", added[0]);
        }
        commit(logLastSeq);
        checkpointed = trusted;
    }

    /**
     * Closes and deletes sealed tables that hold nothing (a next hot table made ahead and never
     * used, left by a stop): they would only be probed, and hold back merges (their count is exact
     * here: a clean close forced it, else {@link #removeAbove} counted again).
     */
    private void dropEmptySealed() throws IOException {
        for (java.util.Iterator<IdTable> it = sealed.iterator(); it.hasNext(); ) {
            IdTable table = it.next();
            if (table.count() == 0 && !table.merged()) {
                it.remove();
                table.delete();
            }
        }
        publishView();
    }

    /**
     * Opens {@code files} into {@code opened}; if one is damaged (or the tables disagree on their
     * seed) closes and deletes them all, so the index is rebuilt from the log.
     *
     * @return the files opened: {@code files}, or none
     */
    private List<Path> openTables(List<Path> files, List<IdTable> opened) throws IOException {
        try {
            for (Path file : files) {
                opened.add(IdTable.open(file));
            }
            for (IdTable table : opened) {
                if (table.seed() != opened.get(0).seed()) {
                    throw new IdTable.Damaged(table.file() + " has another hash seed than " + opened.get(0).file());
                }
            }
            return files;
        } catch (IdTable.Damaged e) {
            log.warn("{}; the event-id index is rebuilt from the event log", e.getMessage());
            List<Path> none = deleteTables(files, opened);
            opened.clear();
            return none;
        }
    }

    /**
     * Closes and deletes the tables a merged one replaced, which a crash (or a stop past its grace
     * period) left beside it: those its header lists ({@link IdTable#replaced}), of older file
     * numbers. Their ids are all in the merged table (but for those retention let it leave out), so
     * dedup was right with them too; but {@link #ids} counted their ids twice, and claims probed
     * them until a later merge folded them in. A table no list names stays, whatever its order.
     *
     * @return the files left
     */
    private static List<Path> dropSuperseded(List<Path> files, List<IdTable> opened) throws IOException {
        java.util.Set<Long> replaced = new java.util.HashSet<>();
        for (IdTable merged : opened) {
            long number = tableNumber(merged.file());
            for (long r : merged.replaced()) {
                if (r < number) {
                    replaced.add(r);
                }
            }
        }
        List<IdTable> superseded = new ArrayList<>();
        for (IdTable table : opened) {
            if (replaced.contains(tableNumber(table.file()))) {
                superseded.add(table);
            }
        }
        if (superseded.isEmpty()) {
            return files;
        }
        List<Path> left = new ArrayList<>(files);
        for (IdTable table : superseded) {
            opened.remove(table);
            left.remove(table.file());
            table.delete();
        }
        log.info("event-id index: deleted {} tables a merge had replaced, left by the last stop: {}", superseded.size(),
                superseded.stream().map(t -> t.file().getFileName().toString()).toList());
        return left;
    }

    /** Unmaps {@code opened} and deletes {@code files}, so the index is rebuilt from the log: no files are left. */
    private static List<Path> deleteTables(List<Path> files, List<IdTable> opened) throws IOException {
        for (IdTable table : opened) {
            table.unmap(); // its disk space comes back once deleted
        }
        for (Path file : files) {
            Files.deleteIfExists(file);
        }
        return List.of();
    }

    /** A new empty table of {@code 2^slotBits} slots, numbered after every other. */
    private IdTable makeTable(int slotBits) throws IOException {
        return makeTable(slotBits, () -> false, WritePace.UNPACED);
    }

    private IdTable makeTable(int slotBits, java.util.function.BooleanSupplier stop, WritePace pace) throws IOException {
        long number = nextNumber.getAndIncrement();
        Path file = directory.resolve(tableName(number));
        if (Files.exists(file)) {
            throw new IOException(file + " exists already; the event-id index does not overwrite a table");
        }
        IdTable.create(file, slotBits, seed, number, stop, pace);
        return IdTable.open(file);
    }

    /** Publishes {@link #hot} and {@link #sealed} as the {@link #view}; under {@link #makeLock} (or while loading). */
    private void publishView() {
        IdTable[] next = new IdTable[1 + sealed.size()];
        next[0] = hot;
        for (int i = 0; i < sealed.size(); i++) {
            next[i + 1] = sealed.get(i);
        }
        view = next;
    }

    /**
     * Brings the tables (oldest first) into the page cache ({@link IdTable#warm}), newest first (it takes the claims), as long as they
     * fit in half of {@code memoryBytes}: beyond that they could not all stay cached anyway, and
     * reading them would only push each other out.
     *
     * @return the tables read
     */
    static int warm(List<IdTable> tables, long memoryBytes) {
        long budget = memoryBytes / 2;
        long started = System.nanoTime();
        long read = 0;
        int warmed = 0;
        for (int i = tables.size() - 1; i >= 0; i--) {
            IdTable table = tables.get(i);
            if (read + table.fileBytes() > budget) {
                log.warn("event-id index: {} and older tables are not read ahead: the tables ({} MB) exceed half of the "
                        + "memory ({} MB), so claims will wait for reads from disk", table.file().getFileName(),
                        totalBytes(tables) >> 20, memoryBytes >> 20);
                break;
            }
            warmSum += table.warm();
            read += table.fileBytes();
            warmed++;
        }
        if (read >= 64L << 20) {
            log.info("event-id index: read {} MB of tables ahead in {} ms", read >> 20, (System.nanoTime() - started) / 1_000_000);
        }
        return warmed;
    }

    /** Where {@link IdTable#warm} sums go, so the JIT keeps the reads. */
    private static volatile long warmSum;

    private static long totalBytes(List<IdTable> tables) {
        long total = 0;
        for (IdTable table : tables) {
            total += table.fileBytes();
        }
        return total;
    }

    /** The memory this process can use: the container's or machine's (as the JVM sees it). */
    private static long memoryBytes() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory() * 2;
    }

    /** Removes every entry above {@code seq}: their events may be ones the log does not have. */
    private void removeAbove(long seq) {
        long removed = 0;
        for (IdTable table : view) {
            List<long[]> keys = new ArrayList<>();
            table.recount(seq, slot -> keys.add(table.key(slot)));
            for (long[] key : keys) {
                long slot = table.find(key[0], key[1], key[2]);
                if (slot >= 0) {
                    table.remove(slot); // moves later entries of the run, so found again by key
                    removed++;
                }
            }
        }
        if (removed > 0) {
            log.warn("event-id index: removed {} ids of events after {} the log may not have; they are claimed again from the log",
                    removed, seq);
        }
    }

    /**
     * Claims the event's id for sequence number {@code seq}: true if it was not stored before (the
     * event is then stored with {@code seq}), false for a duplicate. Undone by {@link #rollbackTo}
     * or {@link #rollback} until {@link #commit}.
     */
    boolean claim(StoredEvent event, long seq) {
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
        long hash = IdTable.hash(hi, lo, key, seed);
        long slot = into.find(hash, hi, lo, key);
        if (slot >= 0) {
            return false;
        }
        if (sealedTables) {
            IdTable[] tables = view; // [0] is `into`
            for (int t = 1; t < tables.length; t++) {
                if (tables[t].find(hash, hi, lo, key) >= 0) {
                    return false;
                }
            }
        }
        long empty = -slot - 1;
        into.put(empty, hi, lo, key, seq);
        if (undoSize == undoSlots.length) {
            undoSlots = Arrays.copyOf(undoSlots, undoSize * 2);
            undoTables = Arrays.copyOf(undoTables, undoSize * 2);
        }
        undoTables[undoSize] = into;
        undoSlots[undoSize++] = empty;
        return true;
    }

    /** A point to undo to with {@link #rollbackTo}: the claims made after it. */
    int mark() {
        return undoSize;
    }

    /** Undoes the claims made since {@code mark}, newest first. */
    void rollbackTo(int mark) {
        for (int i = undoSize - 1; i >= mark; i--) {
            undoTables[i].clearNewest(undoSlots[i]);
            undoTables[i] = null;
        }
        undoSize = mark;
    }

    /** Undoes every claim since the last {@link #commit}. */
    void rollback() {
        rollbackTo(0);
    }

    /** Keeps the claims made so far: every event up to {@code lastSeq} is in the log. */
    void commit(long lastSeq) {
        Arrays.fill(undoTables, 0, undoSize, null);
        undoSize = 0;
        committedThrough = lastSeq;
        long ids = 0;
        IdTable[] tables = view;
        for (IdTable table : tables) {
            ids += table.count();
        }
        committedIds = ids;
        if (hotAtCommit != tables[0]) {
            hotAtCommit = tables[0];
            synchronized (signal) {
                signal.notifyAll(); // a sealed table may be merged now
            }
        }
        commits++; // the writer's alone: no lost update
    }

    /**
     * The ids the tables held at the last commit (an id in a merged table and in a source not yet
     * retired counts once: the swap is atomic); kept by {@link #commit}, so a metrics scrape reads
     * one volatile instead of the writer's counts.
     */
    long ids() {
        return committedIds;
    }

    /** The tables' files, all of which claims want in memory (see {@link #warm}). */
    long tableBytes() {
        return totalBytes(List.of(view));
    }

    /** The tables a claim probes now. */
    int tables() {
        return view.length;
    }

    /** Checkpoints run by the maintainer thread (and the last one at close). */
    long checkpoints() {
        return checkpoints.get();
    }

    /** The sequence number the last checkpoint covers (see {@link SegmentRetention}). */
    long covered() {
        return checkpointed;
    }

    /**
     * The log no longer holds the events below {@code seq} (retention deleted them): merges of
     * sealed tables leave their ids out from now on, so a retry of one is stored again.
     */
    void retainFrom(long seq) {
        if (seq > retainedFrom) {
            retainedFrom = seq;
        }
    }

    /** Merges made by the merger thread. */
    long merges() {
        return merges.get();
    }

    /**
     * The table new claims go into: past half full, the next takes over (made ahead by the
     * maintainer once the hot one is a quarter full) and the full one is sealed. Only when that is
     * not ready by the time the hot one is three quarters full does the writer make it itself.
     */
    private IdTable roomyHot() {
        IdTable current = hot;
        long count = current.count();
        long capacity = current.capacity();
        if (count < capacity / 4) {
            return current;
        }
        if (count < capacity / 2) {
            if (!prepareWanted) {
                prepareWanted = true;
                synchronized (signal) {
                    signal.notifyAll();
                }
            }
            return current;
        }
        if (prepared.get() == null && count < capacity / 4 * 3) {
            return current;
        }
        IdTable next = prepared.getAndSet(null);
        if (next != null && next.order() < current.order()) {
            // Made ahead while the writer, not waiting for it, made the current one: numbered (and
            // so ordered) before it. Tables take claims in the order of their numbers, so it goes.
            discard(next);
            next = null;
        }
        if (next == null) {
            if (maintainer != null) { // while opening, before it starts, the writer always makes them
                log.warn("the next event-id table was not ready in time; the writer makes it");
            }
            try {
                next = makeTable(nextHotSlotBits(current));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make the next event-id table: " + e.getMessage(), e);
            }
        }
        synchronized (makeLock) {
            sealed.add(0, current);
            hot = next;
            publishView();
        }
        prepareWanted = false;
        log.debug("event-id index: claims go into {} now; {} sealed ({} of {} slots full)",
                next.file().getFileName(), current.file().getFileName(), count, capacity);
        return next;
    }

    private static void discard(IdTable unused) {
        try {
            unused.delete();
        } catch (IOException e) {
            // Left on disk it is an empty table: the next start deletes it (dropEmptySealed).
            log.warn("could not delete the unused event-id table {}: {}", unused.file(), e.toString());
        }
    }

    private int nextHotSlotBits(IdTable current) {
        return Math.max(current.slotBits(), Math.min(hotSlotBits, current.slotBits() + 1));
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

    // ---- the maintainer thread: next hot tables ahead, checkpoints, retired tables ----

    private void maintain() {
        long nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
        while (!closing) {
            try {
                synchronized (signal) {
                    long waitMillis = (nextCheckpoint - System.nanoTime()) / 1_000_000;
                    if (!closing && !(prepareWanted && prepared.get() == null) && !retiredDue() && waitMillis > 0) {
                        signal.wait(retired.isEmpty() ? waitMillis : Math.min(waitMillis, 100));
                    }
                }
                if (closing) {
                    break;
                }
                if (prepareWanted && prepared.get() == null) {
                    IdTable current = hot;
                    // Outside any lock: the writer never waits for this unless the hot one is 3/4 full.
                    // If the writer could not wait and made one itself meanwhile, this one is older than it: dropped.
                    IdTable made = makeTable(nextHotSlotBits(current), () -> closing, backgroundPace); // a stop is not held back
                    boolean overtaken;
                    synchronized (makeLock) { // where the writer swaps the hot table
                        overtaken = made.order() < hot.order();
                    }
                    if (overtaken) {
                        discard(made); // the writer made one itself meanwhile: this one would take claims out of order
                    } else {
                        prepared.set(made);
                    }
                }
                deleteRetired(false);
                if (System.nanoTime() >= nextCheckpoint) {
                    checkpoint(false);
                    nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
                }
            } catch (InterruptedException e) {
                break;
            } catch (IOException | RuntimeException e) {
                if (closing) {
                    break;
                }
                // The writer makes the next table itself if need be; checkpoints are retried later.
                log.warn("event-id index maintenance failed, retried in {} ms: {}", checkpointMillis, e.toString());
                nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
                pause(Math.min(checkpointMillis, 1_000));
            }
        }
    }

    private boolean retiredDue() {
        Retired first = retired.peek();
        return first != null && commits > first.afterCommits();
    }

    /**
     * Unmaps and deletes the tables a merged one replaced, once the writer has committed since the
     * swap (a claim that began before it may still have been probing them); {@code all}: the
     * writer has stopped.
     */
    private void deleteRetired(boolean all) throws IOException {
        for (Retired r; (r = retired.peek()) != null && (all || commits > r.afterCommits()); ) {
            retired.poll();
            try {
                r.table().unmap();
            } catch (IOException e) {
                log.warn("closing the replaced event-id table {}: {}", r.table().file(), e.toString());
            }
            Files.deleteIfExists(r.table().file()); // if this fails, the next start takes it as a sealed table
        }
    }

    /** Waits {@code millis} unless the index closes first (a stop must not wait out a back-off). */
    private void pause(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        synchronized (signal) {
            for (long left = millis; !closing && left > 0; left = (end - System.nanoTime()) / 1_000_000) {
                try {
                    signal.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    // ---- the merger thread ----

    private record MergePlan(List<IdTable> sources, int slotBits, long ids) {}

    private void mergeLoop() {
        while (!closing) {
            try {
                if (expire()) {
                    continue;
                }
                MergePlan plan;
                synchronized (signal) {
                    plan = closing ? null : planMerge();
                    if (plan == null && !closing) {
                        signal.wait(1_000);
                    }
                }
                if (closing) {
                    break;
                }
                if (plan == null) {
                    continue;
                }
                if (!roomFor(plan)) {
                    pause(60_000);
                    continue;
                }
                merge(plan);
                lowOnSpace = false;
            } catch (InterruptedException e) {
                break;
            } catch (IOException | RuntimeException e) {
                if (closing) {
                    break;
                }
                log.warn("merging event-id tables failed, retried in 10 s: {}", e.toString());
                pause(10_000);
            }
        }
    }

    /** Free disk space a merge leaves for the event log, beyond its new table. */
    static final long MERGE_SPARE_BYTES = 1L << 30;
    private boolean lowOnSpace;

    /**
     * Whether the disk has room for the plan's new table and {@link #MERGE_SPARE_BYTES} more: a
     * merge must never take the space the events need (their writes would fail). Warns once while
     * it has not.
     */
    private boolean roomFor(MergePlan plan) throws IOException {
        long needed = IdTable.HEADER_BYTES + (IdTable.SLOT_BYTES << plan.slotBits()) + MERGE_SPARE_BYTES;
        long usable = Files.getFileStore(directory).getUsableSpace();
        if (usable >= needed) {
            return true;
        }
        if (!lowOnSpace) {
            log.warn("event-id index: not merging {} sealed tables: {} MB free on disk, {} MB wanted; new ids are looked "
                    + "up in {} tables meanwhile", plan.sources().size(), usable >> 20, needed >> 20, view.length);
            lowOnSpace = true;
        }
        return false;
    }

    /**
     * The newest sealed tables to merge: the newest, and each next older one while it holds at
     * most {@value #MERGE_RATIO} times the ids taken so far; null if fewer than two, or while a
     * sealed table may still have a claim to undo (the writer has not committed since sealing).
     */
    private MergePlan planMerge() {
        synchronized (makeLock) {
            if (hotAtCommit != hot || sealed.isEmpty()) {
                return null;
            }
            List<IdTable> sources = new ArrayList<>();
            long ids = 0;
            int bits = 0;
            for (IdTable table : sealed) {
                long live = liveIds(table);
                if (!sources.isEmpty() && live > MERGE_RATIO * ids) {
                    break;
                }
                int wanted = slotBitsFor(ids + live);
                if (wanted > LARGEST_SLOT_BITS) {
                    break;
                }
                sources.add(table);
                ids += live;
                bits = wanted;
            }
            if (sources.size() >= 2) {
                return new MergePlan(List.copyOf(sources), bits, ids);
            }
            // A table most of whose ids are of events retention deleted is rewritten alone.
            for (IdTable table : sealed) {
                long live = liveIds(table);
                if (table.count() > 0 && live < table.count() / 2) {
                    return new MergePlan(List.of(table), slotBitsFor(live), live);
                }
            }
            return null;
        }
    }

    /**
     * The ids of a sealed table whose events the log still holds, estimated from the range of its
     * sequence numbers (a table holds the ids of a stretch of the log: hot tables fill in order and
     * merges take neighbours); all of them until that range is known ({@link #expire}).
     */
    private long liveIds(IdTable table) {
        long floor = retainedFrom;
        if (floor <= 1 || !table.seqRangeKnown()) {
            return table.count();
        }
        long[] range = table.seqRange();
        if (range[0] >= floor) {
            return table.count();
        }
        if (range[1] < floor) {
            return 0;
        }
        return (long) Math.ceil(table.count() * (double) (range[1] - floor + 1) / (range[1] - range[0] + 1));
    }

    /**
     * Retires the sealed tables that hold only ids of events retention deleted (their whole range
     * of sequence numbers is below the log's first one), learning each table's range first (outside
     * the locks: counting a 64 MiB table takes a moment). True if it retired any.
     */
    private boolean expire() throws IOException {
        if (retainedFrom <= 1) {
            return false;
        }
        List<IdTable> candidates;
        synchronized (makeLock) {
            if (hotAtCommit != hot) {
                return false;
            }
            candidates = List.copyOf(sealed);
        }
        List<IdTable> expired = new ArrayList<>();
        for (IdTable table : candidates) {
            if (table.seqRange()[1] < retainedFrom) {
                expired.add(table);
            }
        }
        if (expired.isEmpty()) {
            return false;
        }
        long ids = expired.stream().mapToLong(IdTable::count).sum();
        replaceSealed(expired, null);
        log.info("event-id index: {} tables ({} ids) dropped: all their events are past retention", expired.size(), ids);
        return true;
    }

    /** The fewest slot bits (at least the first table's) whose slots {@code ids} fill to at most {@link #MERGED_LOAD}. */
    private int slotBitsFor(long ids) {
        int bits = Math.max(IdTable.MIN_SLOT_BITS, firstSlotBits);
        while (bits < 62 && (double) ids > MERGED_LOAD * (1L << bits)) {
            bits++;
        }
        return bits;
    }

    /**
     * Takes {@code out} (sealed tables, newest first and next to each other) out of the view, with
     * {@code in} in their place if not null, and retires them: unmapped and deleted by the
     * maintainer once the writer has committed. The merger's alone (it alone removes sealed tables;
     * the writer only adds in front). Retired only after the new view is published: a claim that
     * read the old view then ends before the writer's next commit, which no unmapping precedes.
     */
    private void replaceSealed(List<IdTable> out, IdTable in) {
        synchronized (makeLock) {
            int at = sealed.indexOf(out.get(0));
            sealed.removeAll(out);
            if (in != null) {
                sealed.add(at, in);
            }
            publishView();
            for (IdTable table : out) {
                retired.add(new Retired(table, commits));
            }
        }
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** Merges the plan's sources into a new table and swaps it in for them. */
    private void merge(MergePlan plan) throws IOException {
        long started = System.nanoTime();
        long floor = retainedFrom;
        int slotBits = plan.slotBits();
        if (floor > 1) { // the plan only estimated what retention leaves: the new table is sized on the count
            long live = 0;
            for (IdTable source : plan.sources()) {
                live += source.countFrom(floor);
            }
            slotBits = Math.min(IdTable.MAX_SLOT_BITS, slotBitsFor(live));
        }
        long number = nextNumber.getAndIncrement();
        Path file = directory.resolve(tableName(number));
        long order = plan.sources().stream().mapToLong(IdTable::order).max().orElse(0);
        long ids = IdTableMerge.merge(IdTableMerge.Spec.of(file, slotBits, seed, order, plan.sources())
                .from(floor).stoppedBy(() -> closing).paced(backgroundPace));
        IdTable merged = IdTable.open(file);
        merged.settled(true); // forced as it was made
        replaceSealed(plan.sources(), merged);
        merges.incrementAndGet();
        log.info("event-id index: merged {} tables ({} ids) into {} (2^{} slots) in {} ms", plan.sources().size(), ids,
                file.getFileName(), slotBits, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Forces the tables, then records that they hold every id up to the sequence number committed
     * before forcing began. {@code clean}: written at close, when the writer has stopped, so the
     * tables hold nothing above it and the next open need not look.
     */
    private void checkpoint(boolean clean) throws IOException {
        checkpoint(clean, System.nanoTime() + Long.MAX_VALUE / 2);
    }

    /** As {@link #checkpoint(boolean)}, given up (nothing recorded) once {@code deadlineNanos} passed: false then. */
    private synchronized boolean checkpoint(boolean clean, long deadlineNanos) throws IOException {
        long covered = committedThrough;
        if (covered == checkpointed && !clean) {
            return true;
        }
        // Read before the view: if the hot table then is the one of the last commit, no sealed
        // table of the view has a claim left to undo, and once forced it never changes again.
        IdTable committedHot = hotAtCommit;
        IdTable[] tables = view;
        boolean sealedSettle = tables[0] == committedHot;
        for (IdTable table : tables) {
            if (!table.settled() && !table.force(deadlineNanos, clean ? WritePace.UNPACED : backgroundPace)) {
                return false;
            }
        }
        if (sealedSettle) {
            for (int t = 1; t < tables.length; t++) {
                tables[t].settled(true);
            }
        }
        writeCheckpoint(covered, clean);
        checkpointed = covered;
        checkpoints.incrementAndGet();
        return true;
    }

    private record Checkpoint(long covered, boolean clean) {}

    /** The sequence number the last checkpoint under {@code dataDir} recorded as covered (0: none). */
    static long coveredOnDisk(Path dataDir) throws IOException {
        Path directory = dataDir.resolve(DIRECTORY);
        return Files.isDirectory(directory) ? new EventIdIndex(directory, 0, FIRST_SLOT_BITS, HOT_SLOT_BITS).readCheckpoint(true).covered() : 0;
    }

    private Checkpoint readCheckpoint(boolean tablesExist) throws IOException {
        Path file = directory.resolve(CHECKPOINT);
        if (!Files.exists(file)) {
            // No tables either: a new index, nothing to remove. Tables without it: trust none of them.
            return new Checkpoint(0, !tablesExist);
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        if (b.capacity() != CHECKPOINT_BYTES || b.getLong(0) != CHECKPOINT_MAGIC || crc(b) != b.getInt(24)) {
            log.warn("{} is damaged; the event-id index is rebuilt from the event log", file);
            return new Checkpoint(0, false);
        }
        return new Checkpoint(b.getLong(8), b.getLong(16) == 1);
    }

    /** Written whole under a temporary name and renamed over the old one, the directory forced. */
    private void writeCheckpoint(long covered, boolean clean) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(CHECKPOINT_BYTES);
        b.putLong(CHECKPOINT_MAGIC).putLong(covered).putLong(clean ? 1 : 0);
        b.putInt(24, crc(b));
        b.clear();
        Path tmp = directory.resolve(CHECKPOINT + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, directory.resolve(CHECKPOINT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        // If the rename is lost, the previous checkpoint is read: it covers less, which only costs reading.
        EventLog.forceDirectory(directory);
    }

    private static int crc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 24);
        return (int) crc.getValue();
    }

    private List<Path> tableFiles() throws IOException {
        return NumberedFiles.list(directory, IdTable.SUFFIX);
    }

    private static long tableNumber(Path file) {
        return NumberedFiles.number(file, IdTable.SUFFIX);
    }

    private static String tableName(long number) {
        return IdTable.fileName(number);
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
        // upper-case one; -1 for anything else (a table: the branches per character were 1% of a
        // single-event collect's CPU on the writer).
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
     * Stops the maintainer and, once the writer has stopped, forces the tables and records a clean
     * checkpoint, unless {@code deadlineNanos} (what is left of a graceful stop's grace period)
     * passes first: then the next start claims the ids of the events since the last checkpoint
     * again, as after a crash. Then closes the files.
     */
    void close(long deadlineNanos) {
        closing = true;
        synchronized (signal) {
            signal.notifyAll();
        }
        boolean stopped = true;
        for (Thread thread : new Thread[] {maintainer, merger}) { // a merge gives up within a step
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
            if (!stopped || !checkpoint(true, deadlineNanos)) {
                log.info("the event-id index's last checkpoint did not finish within the grace period; "
                        + "the next start claims the ids of the events since the one before again");
            }
            if (stopped) {
                deleteRetired(true); // the writer has stopped: nothing probes them
            }
        } catch (IOException | RuntimeException e) {
            log.warn("the event-id index's last checkpoint failed; the next start claims the log's recent ids again: {}",
                    e.toString());
        }
        closeTables();
    }

    /** Closes with no deadline (the writer has stopped, or never started). */
    @Override
    public void close() {
        close(System.nanoTime() + Long.MAX_VALUE / 2);
    }

    private void closeTables() {
        List<IdTable> all = new ArrayList<>();
        if (view != null) {
            all.addAll(List.of(view));
        } else if (hot != null) {
            all.add(hot);
        }
        for (Retired r : retired) {
            all.add(r.table()); // their files stay: the next start deletes those a merge replaced (dropSuperseded)
        }
        retired.clear();
        IdTable next = prepared.getAndSet(null);
        if (next != null) {
            all.add(next); // its file stays: the next start takes it as the hot table
        }
        for (IdTable table : all) {
            try {
                table.close();
            } catch (IOException e) {
                log.warn("closing {}: {}", table.file(), e.getMessage());
            }
        }
    }
}
