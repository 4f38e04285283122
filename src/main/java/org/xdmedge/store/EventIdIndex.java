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
 * ({@link IdTable}) memory-mapped from {@code <data>/ids/}, written only by the event writer. The
 * writer claims a group's ids in memory, appends the new events to the {@link EventLog}, and
 * {@link #commit}s once the log reached the disk; a request that fails alone is undone back to
 * its {@link #mark}.
 *
 * <p>Why not a B-tree: clients make random ids (alloy and the Mobile SDKs send UUIDv4s), so every
 * new id landed on its own leaf of the former SQLite index, and each commit wrote every dirtied
 * page to its log and again into the file: with random ids the writer spent most of its time
 * there (docs/PERFORMANCE.md, seventh round). A claim here is a probe or two into mapped memory,
 * and the kernel writes changed pages back on its own schedule.
 *
 * <p>Keys: a canonical UUID is its 128 bits (upper- and lower-case spellings stay different ids,
 * as when the text was the key); any other id is the first 128 bits of its SHA-256. With them, 64
 * bits of the datastream id's SHA-256 and the kind. Tables grow: when the newest is half full, the
 * next, at least twice as large, is taken (prepared ahead as zeros on the maintainer thread), and
 * a lookup probes every table, newest first; once {@value #MERGE_AT} tables are before the newest
 * the next one also receives copies of their ids and they are retired, so there are few.
 *
 * <p>The index is derived from the event log, so nothing here is forced per commit. The
 * maintainer thread checkpoints every {@link #DEFAULT_CHECKPOINT_MILLIS} ms (10 s; the system
 * property {@code xdmedge.idsCheckpointMillis} is for experiments): it forces the tables, then
 * records in {@value #CHECKPOINT} the last sequence number whose id they hold. Opening after
 * a crash removes every entry above that number (its event may be one the log lost) and claims
 * the log's events after it again; after a clean close nothing has to be read.
 */
final class EventIdIndex implements AutoCloseable {
    static final String DIRECTORY = "ids";
    static final String CHECKPOINT = "checkpoint";
    /** The former SQLite index: removed once the tables are built from the log. */
    static final String FORMER_FILE_NAME = "event-ids.sqlite";
    /** Bounds what a start after a crash reads again: at 150k events/s, 1.5M events. */
    static final long DEFAULT_CHECKPOINT_MILLIS = Long.getLong("xdmedge.idsCheckpointMillis", 10_000);
    static final int FIRST_SLOT_BITS = 16;
    /** Tables stop growing at 2^28 slots (8 GiB files, 128M ids each). */
    static final int LARGEST_SLOT_BITS = 28;
    /**
     * Tables before the newest that are merged into the next one: with 3, a lookup probes at most
     * four (the three older ones an eighth, a quarter and half the newest's size) and each id is
     * copied about half a time over its life; merging at every step copied each about once, which
     * cost the edge's two CPUs ~8% while its tables grew from nothing (perf, collect-50-client-ids).
     */
    static final int MERGE_AT = 3;
    private static final long CHECKPOINT_MAGIC = 0x58444d2d49444b31L; // "XDM-IDK1"
    private static final int CHECKPOINT_BYTES = 28;
    private static final long KIND_LOWER_UUID = 0;
    private static final long KIND_UPPER_UUID = 1;
    private static final long KIND_TEXT = 2;
    private static final Logger log = LoggerFactory.getLogger(EventIdIndex.class);

    private final Path directory;
    /** Oldest first; the writer adds, the maintainer forces. */
    private final List<IdTable> tables = new CopyOnWriteArrayList<>();
    private final long checkpointMillis;
    private final Map<String, Long> datastreamKeys = new HashMap<>();
    private final MessageDigest sha256;
    private final long[] uuid = new long[2];
    /** The claims since the last commit, newest last: table index and slot. */
    private IdTable[] undoTables = new IdTable[256];
    private long[] undoSlots = new long[256];
    private int undoSize;
    /** The last sequence number whose claim is committed (its event is in the log). */
    private volatile long committedThrough;
    /** The tables' ids as of the last commit, for {@link #ids}. */
    private volatile long committedIds;
    private long checkpointed;
    private final AtomicLong checkpoints = new AtomicLong();
    /** Held while a next generation is made: by the maintainer, or by the writer if it could not wait. */
    private final Object makeLock = new Object();
    /** Wakes the maintainer: a next generation is wanted, or the index closes. */
    private final Object signal = new Object();
    /** The next table, and the older tables whose ids it holds copies of (retired when it is taken). */
    private record Next(IdTable table, List<IdTable> replaces) {}
    /** The next table, made ahead by the maintainer, until the writer takes it. */
    private final java.util.concurrent.atomic.AtomicReference<Next> prepared = new java.util.concurrent.atomic.AtomicReference<>();
    /**
     * The newest table as of the writer's last commit: every table before it then has no claim
     * left to undo and takes no more, so the maintainer may copy it into the next table.
     */
    private volatile IdTable newestAtCommit;
    /** Tables whose ids a newer table holds: closed and deleted by the maintainer. */
    private final java.util.concurrent.ConcurrentLinkedQueue<IdTable> retired = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile boolean prepareWanted;
    private volatile boolean closing;
    private Thread maintainer;

    private EventIdIndex(Path directory, long checkpointMillis) {
        this.directory = directory;
        this.checkpointMillis = checkpointMillis;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Opens (creating if need be) the index under {@code dataDir}, brings it up to date with the
     * event log there (which ends at {@code logLastSeq}), and starts its maintainer thread.
     */
    static EventIdIndex open(Path dataDir, long logLastSeq, long checkpointMillis) throws IOException {
        Path directory = dataDir.resolve(DIRECTORY);
        Files.createDirectories(directory);
        EventIdIndex index = new EventIdIndex(directory, checkpointMillis);
        try {
            index.load(dataDir, logLastSeq);
        } catch (IOException | RuntimeException e) {
            index.closeTables();
            throw e;
        }
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            if (Files.deleteIfExists(dataDir.resolve(FORMER_FILE_NAME + suffix)) && suffix.isEmpty()) {
                log.info("removed the former event-id index {}: {} holds the ids now", FORMER_FILE_NAME, directory);
            }
        }
        index.maintainer = new Thread(index::maintain, "event-id-index");
        index.maintainer.setDaemon(true);
        index.maintainer.start();
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
        try {
            for (Path file : files) {
                tables.add(IdTable.open(file));
            }
        } catch (IdTable.Damaged e) {
            log.warn("{}; the event-id index is rebuilt from the event log", e.getMessage());
            closeTables();
            tables.clear();
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
            checkpoint = new Checkpoint(0, true);
        }
        if (tables.isEmpty()) {
            Path first = directory.resolve(tableName(1));
            IdTable.create(first, FIRST_SLOT_BITS);
            tables.add(IdTable.open(first));
        }
        warm(tables, memoryBytes());
        long trusted = Math.min(checkpoint.covered(), logLastSeq);
        // From here until the next checkpoint, a crash leaves entries above `trusted` to be removed.
        writeCheckpoint(trusted, false);
        if (!checkpoint.clean() || checkpoint.covered() > logLastSeq) {
            removeAbove(trusted);
        }
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
     * Brings the tables into the page cache ({@link IdTable#warm}), newest first (it takes the claims), as long as they
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
        for (IdTable table : tables) {
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
     * {@code olderTables}: false only while claiming the log's own events on open, which are
     * unique and above everything the tables kept, so only the newest table is probed (for a slot).
     */
    private boolean claim(String datastreamId, String eventId, long seq, boolean olderTables) {
        IdTable newest = roomyNewest();
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
        long slot = newest.find(hi, lo, key);
        if (slot >= 0) {
            return false;
        }
        for (int t = tables.size() - 2; t >= 0 && olderTables; t--) {
            if (tables.get(t).find(hi, lo, key) >= 0) {
                return false;
            }
        }
        long empty = -slot - 1;
        newest.put(empty, hi, lo, key, seq);
        if (undoSize == undoSlots.length) {
            undoSlots = Arrays.copyOf(undoSlots, undoSize * 2);
            undoTables = Arrays.copyOf(undoTables, undoSize * 2);
        }
        undoTables[undoSize] = newest;
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
        for (IdTable table : tables) {
            ids += table.count();
        }
        committedIds = ids;
        IdTable newest = tables.get(tables.size() - 1);
        if (newestAtCommit != newest) {
            newestAtCommit = newest;
        }
    }

    /**
     * The ids the tables held at the last commit (an id copied into a newer table counts twice
     * until the older one is retired); kept by {@link #commit}, so a metrics scrape reads one
     * volatile instead of the writer's counts.
     */
    long ids() {
        return committedIds;
    }

    /** The tables' files, all of which claims want in memory (see {@link #warm}). */
    long tableBytes() {
        return totalBytes(tables);
    }

    /** Checkpoints run by the maintainer thread (and the last one at close). */
    long checkpoints() {
        return checkpoints.get();
    }

    /**
     * The table new claims go into: past half full, the next generation takes over (made ahead by
     * the maintainer, once the newest is a quarter full). Only when that is not ready by the time
     * the newest is three quarters full does the writer make it itself.
     */
    private IdTable roomyNewest() {
        IdTable newest = tables.get(tables.size() - 1);
        long count = newest.count();
        long capacity = newest.capacity();
        if (count < capacity / 4) {
            return newest;
        }
        if (count < capacity / 2) {
            if (!prepareWanted) {
                prepareWanted = true;
                synchronized (signal) {
                    signal.notifyAll();
                }
            }
            return newest;
        }
        if (prepared.get() == null && count < capacity / 4 * 3) {
            return newest;
        }
        // Taken and installed under makeLock, so the maintainer never makes a table from a list
        // the writer is changing (it would name it after a table that is already there).
        synchronized (makeLock) { // waits for the maintainer only if it is making the table now
            Next next = prepared.getAndSet(null);
            if (next == null) {
                if (maintainer != null) { // while opening, before it starts, the writer always makes them
                    log.warn("the next event-id table was not ready in time; the writer makes it");
                }
                try {
                    next = makeNext();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot make the next event-id table: " + e.getMessage(), e);
                }
            }
            tables.add(next.table());
            log.info("event-id index: claims go into {} now ({} of {} slots of the last one full)",
                    next.table().file().getFileName(), count, capacity);
            if (!next.replaces().isEmpty()) {
                tables.removeAll(next.replaces());
                retired.addAll(next.replaces());
                synchronized (signal) {
                    signal.notifyAll();
                }
            }
            prepareWanted = false;
            return next.table();
        }
    }

    /** Makes the table after the newest; under {@link #makeLock}. */
    private Next makeNext() throws IOException {
        return makeNext(() -> false);
    }

    /**
     * Makes (zero-fills) and opens the table after the newest, given up when {@code stop} says so
     * (the maintainer's, once closing). Once {@value #MERGE_AT} tables are before the newest and
     * take no more claims, it also receives a copy of their ids and is forced before it is handed
     * over: when the writer takes it those tables are retired, so a lookup probes a few tables,
     * not one per doubling. Twice the newest's size at least, and room for the copies and as many
     * new ids again; past {@value #LARGEST_SLOT_BITS} slot bits nothing is copied and tables add up.
     */
    private Next makeNext(java.util.function.BooleanSupplier stop) throws IOException {
        List<IdTable> now = List.copyOf(tables);
        IdTable newest = now.get(now.size() - 1);
        List<IdTable> older = newestAtCommit == newest && now.size() - 1 >= MERGE_AT
                ? now.subList(0, now.size() - 1) : List.of();
        long copies = 0;
        for (IdTable table : older) {
            copies += table.count();
        }
        int bits = Math.max(Long.numberOfTrailingZeros(newest.capacity()) + 1,
                64 - Long.numberOfLeadingZeros(2 * (copies + newest.capacity()) - 1));
        if (bits > LARGEST_SLOT_BITS) {
            bits = Math.min(LARGEST_SLOT_BITS, Long.numberOfTrailingZeros(newest.capacity()) + 1);
            older = List.of();
        }
        Path file = directory.resolve(tableName(tableNumber(newest.file()) + 1));
        if (Files.exists(file)) {
            throw new IOException(file + " exists already; the event-id index does not overwrite a table");
        }
        IdTable.create(file, bits, stop);
        IdTable next = IdTable.open(file);
        if (!older.isEmpty()) {
            for (IdTable table : older) {
                table.forEachAbove(0, slot -> {
                    long[] key = table.key(slot);
                    long at = next.find(key[0], key[1], key[2]);
                    if (at < 0) {
                        next.put(-at - 1, key[0], key[1], key[2], table.seq(slot));
                    }
                });
            }
            next.force(); // before the originals are deleted, so a checkpoint's promise holds
        }
        log.info("event-id index: made {} (2^{} slots){}", file.getFileName(), bits,
                older.isEmpty() ? "" : ", holding copies of the " + copies + " ids of " + older.size() + " older tables");
        return new Next(next, List.copyOf(older));
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

    // ---- the maintainer thread: next generations ahead, checkpoints ----

    private void maintain() {
        long nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
        while (!closing) {
            try {
                synchronized (signal) {
                    long waitMillis = (nextCheckpoint - System.nanoTime()) / 1_000_000;
                    if (!closing && !(prepareWanted && prepared.get() == null) && retired.isEmpty() && waitMillis > 0) {
                        signal.wait(waitMillis);
                    }
                }
                if (closing) {
                    break;
                }
                if (prepareWanted && prepared.get() == null) {
                    synchronized (makeLock) {
                        // Outside `signal`: the writer never waits for this unless the newest is 3/4 full.
                        if (prepareWanted && prepared.get() == null) {
                            prepared.set(makeNext(() -> closing)); // a large table must not hold back a stop
                        }
                    }
                }
                deleteRetired();
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
                sleepQuietly(Math.min(checkpointMillis, 1_000));
            }
        }
    }

    /** Closes and deletes the tables a newer one holds copies of; the writer no longer reads them. */
    private void deleteRetired() throws IOException {
        for (IdTable table; (table = retired.poll()) != null; ) {
            table.close();
            Files.deleteIfExists(table.file());
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
        for (IdTable table : tables) {
            if (!table.force(deadlineNanos)) {
                return false;
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
        return Files.isDirectory(directory) ? new EventIdIndex(directory, 0).readCheckpoint(true).covered() : 0;
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
        return NumberedFiles.name(number, 6, IdTable.SUFFIX);
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
        boolean maintainerStopped = true;
        if (maintainer != null) {
            try {
                maintainer.join(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            maintainerStopped = !maintainer.isAlive();
        }
        try {
            if (!maintainerStopped || !checkpoint(true, deadlineNanos)) {
                log.info("the event-id index's last checkpoint did not finish within the grace period; "
                        + "the next start claims the ids of the events since the one before again");
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
        List<IdTable> all = new ArrayList<>(tables);
        all.addAll(retired); // their files stay: the next start takes them as older tables
        retired.clear();
        Next next = prepared.getAndSet(null);
        if (next != null) {
            all.add(next.table()); // its file stays: the next start takes it as the newest table
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
