package org.xdmedge.store.ids;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.store.DurableFiles;

/**
 * The event-id index's checkpoints and its recovery on open.
 *
 * <p>The index is derived from the event log, so nothing is forced per commit. A checkpoint forces
 * the tables changed since the last one, then records in {@code <data>/ids/checkpoint} the last
 * sequence number whose id they hold. Format (28 bytes, written whole under a temporary name,
 * renamed over the old one, the directory forced): {@code long magic "XDM-IDK1", long covered,
 * long clean (1 or 0), int crc32c} of the first 24 bytes.
 *
 * <p>Recovery: opening trusts the tables up to {@code min(covered, the log's last sequence
 * number)}. After a crash ({@code clean} 0) every entry above it is removed (its event may be one
 * the log lost) and the caller claims the log's events after it again; after a clean close nothing
 * has to be read. A damaged table or checkpoint, or tables of different seeds, make the tables
 * rebuilt from the log. Tables a merge replaced and a crash left beside it are deleted, and empty
 * sealed tables dropped. Before the checkpoint is next written, the one on disk says "not clean".
 *
 * <p>Threads: {@link #checkpoint} runs on the maintainer and, at close, on the closing thread
 * (synchronized); recovery runs on the opening thread before any other starts.
 */
final class IdIndexCheckpoints {
    static final String CHECKPOINT = "checkpoint";
    private static final long CHECKPOINT_MAGIC = 0x58444d2d49444b31L; // "XDM-IDK1"
    private static final int CHECKPOINT_BYTES = 28;
    private static final Logger log = LoggerFactory.getLogger(IdIndexCheckpoints.class);

    private final IdTableSet tables;
    /** The sequence number the last checkpoint covers: the retention of the log keeps every event above it. */
    private volatile long checkpointed;
    private final AtomicLong checkpoints = new AtomicLong();
    /** Where {@link IdTable#warm} sums go, so the JIT keeps the reads. */
    private static volatile long warmSum;

    private record Checkpoint(long covered, boolean clean) {}

    IdIndexCheckpoints(IdTableSet tables) {
        this.tables = tables;
    }

    /** The sequence number the last checkpoint covers. */
    long covered() {
        return checkpointed;
    }

    /** Set once recovery has claimed the log's events again: what the checkpoint on disk covers. */
    void covered(long seq) {
        checkpointed = seq;
    }

    /** Checkpoints run so far. */
    long count() {
        return checkpoints.get();
    }

    // ---- recovery ----

    /**
     * Opens the tables on disk into {@link IdTableSet} (making a first hot table if none), removes
     * what a crash may have left above the trusted point, and returns that point: the caller claims
     * the log's events after it.
     */
    long recover(long logLastSeq) throws IOException {
        deleteTemporaryFiles();
        List<Path> files = tables.tableFiles();
        Checkpoint checkpoint = readCheckpoint(!files.isEmpty());
        if (!files.isEmpty() && Math.min(checkpoint.covered(), logLastSeq) == 0
                && (!checkpoint.clean() || checkpoint.covered() > logLastSeq)) {
            // Every entry would have to be removed one by one (holding their keys): make them anew instead.
            log.warn("event-id index: no checkpoint covers any event of the log; the tables are rebuilt from it");
            files = deleteTables(files, List.of());
        }
        List<IdTable> opened = new ArrayList<>();
        if (!openAll(files, opened)) {
            // No table (new, damaged, or deleted beside its checkpoint): it covers nothing, and
            // every event in the log is claimed (nothing is there to remove).
            checkpoint = new Checkpoint(0, true);
        }
        opened.sort(Comparator.comparingLong(IdTable::order).reversed());
        tables.sealed.addAll(opened);
        tables.publishView();
        List<IdTable> oldestFirst = new ArrayList<>(List.of(tables.view));
        Collections.reverse(oldestFirst);
        warm(oldestFirst, memoryBytes());
        long trusted = Math.min(checkpoint.covered(), logLastSeq);
        // From here until the next checkpoint, a crash leaves entries above `trusted` to be removed.
        writeCheckpoint(trusted, false);
        if (!checkpoint.clean() || checkpoint.covered() > logLastSeq) {
            removeAbove(trusted);
            // Removing moves entries within runs: forced, so a second crash cannot keep half a move.
            for (IdTable table : tables.view) {
                table.force();
            }
        }
        dropEmptySealed();
        return trusted;
    }

    private void deleteTemporaryFiles() throws IOException {
        try (Stream<Path> files = Files.list(tables.directory)) {
            for (Path tmp : files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList()) {
                Files.delete(tmp); // a table or checkpoint whose making a crash interrupted
            }
        }
    }

    /**
     * Opens the table files into {@code opened}, sets the index's seed and next file number, and
     * takes the hot table out of them (leaving the sealed ones); false if no table file was left
     * to open. If this fails, every table is closed.
     */
    private boolean openAll(List<Path> files, List<IdTable> opened) throws IOException {
        try {
            files = openTables(files, opened);
            files = dropSuperseded(files, opened);
            tables.seed = opened.isEmpty() ? new SecureRandom().nextLong() : opened.get(0).seed();
            tables.nextNumber.set(files.isEmpty() ? 1 : IdTableSet.tableNumber(files.get(files.size() - 1)) + 1);
            // The newest table that took claims before (not a merged one) takes them again, if not too large.
            int hotAt = -1;
            for (int i = 0; i < opened.size(); i++) {
                if (!opened.get(i).merged() && opened.get(i).slotBits() <= tables.hotSlotBits) {
                    hotAt = i;
                }
            }
            tables.hot = hotAt >= 0 ? opened.remove(hotAt) : tables.makeTable(tables.firstSlotBits);
            return !files.isEmpty();
        } catch (IOException | RuntimeException e) {
            for (IdTable table : opened) {
                table.close(); // the caller closes the hot table, if there is one
            }
            throw e;
        }
    }

    /**
     * Closes and deletes sealed tables that hold nothing (a next hot table made ahead and never
     * used, left by a stop): they would only be probed, and hold back merges (their count is exact
     * here: a clean close forced it, else {@link #removeAbove} counted again).
     */
    private void dropEmptySealed() throws IOException {
        for (Iterator<IdTable> it = tables.sealed.iterator(); it.hasNext(); ) {
            IdTable table = it.next();
            if (table.count() == 0 && !table.merged()) {
                it.remove();
                table.delete();
            }
        }
        tables.publishView();
    }

    /**
     * Opens {@code files} into {@code opened}; if one is damaged (or the tables disagree on their
     * seed) closes and deletes them all, so the index is rebuilt from the log.
     *
     * @return the files opened: {@code files}, or none
     */
    private static List<Path> openTables(List<Path> files, List<IdTable> opened) throws IOException {
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
     * dedup was right with them too; but the index's id count would count them twice, and claims
     * would probe them until a later merge folded them in. A table no list names stays, whatever
     * its order.
     *
     * @return the files left
     */
    private static List<Path> dropSuperseded(List<Path> files, List<IdTable> opened) throws IOException {
        Set<Long> replaced = new HashSet<>();
        for (IdTable merged : opened) {
            long number = IdTableSet.tableNumber(merged.file());
            for (long r : merged.replaced()) {
                if (r < number) {
                    replaced.add(r);
                }
            }
        }
        List<IdTable> superseded = new ArrayList<>();
        for (IdTable table : opened) {
            if (replaced.contains(IdTableSet.tableNumber(table.file()))) {
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

    /**
     * Brings the tables (oldest first) into the page cache ({@link IdTable#warm}), newest first (it
     * takes the claims), as long as they fit in half of {@code memoryBytes}: beyond that they could
     * not all stay cached anyway, and reading them would only push each other out.
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
                        IdTableSet.totalBytes(tables) >> 20, memoryBytes >> 20);
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

    /** The memory this process can use: the container's or machine's (as the JVM sees it). */
    private static long memoryBytes() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory() * 2;
    }

    /** Removes every entry above {@code seq}: their events may be ones the log does not have. */
    private void removeAbove(long seq) {
        long removed = 0;
        for (IdTable table : tables.view) {
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

    // ---- checkpoints ----

    /**
     * Forces the tables, then records that they hold every id up to the sequence number committed
     * before forcing began. {@code clean}: written at close, when the writer has stopped, so the
     * tables hold nothing above it and the next open need not look.
     */
    void checkpoint(boolean clean) throws IOException {
        checkpoint(clean, System.nanoTime() + Long.MAX_VALUE / 2);
    }

    /** As {@link #checkpoint(boolean)}, given up (nothing recorded) once {@code deadlineNanos} passed: false then. */
    synchronized boolean checkpoint(boolean clean, long deadlineNanos) throws IOException {
        long covered = tables.committedThrough;
        if (covered == checkpointed && !clean) {
            return true;
        }
        // Read before the view: if the hot table then is the one of the last commit, no sealed
        // table of the view has a claim left to undo, and once forced it never changes again.
        IdTable committedHot = tables.hotAtCommit;
        IdTable[] view = tables.view;
        boolean sealedSettle = view[0] == committedHot;
        for (IdTable table : view) {
            if (!table.settled() && !table.force(deadlineNanos, clean ? WritePace.UNPACED : tables.backgroundPace)) {
                return false;
            }
        }
        if (sealedSettle) {
            for (int t = 1; t < view.length; t++) {
                view[t].settled(true);
            }
        }
        writeCheckpoint(covered, clean);
        checkpointed = covered;
        checkpoints.incrementAndGet();
        return true;
    }

    /** The sequence number the last checkpoint under {@code dataDir} recorded as covered (0: none). */
    static long coveredOnDisk(Path dataDir) throws IOException {
        Path directory = dataDir.resolve(EventIdIndex.DIRECTORY);
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        IdTableSet none = new IdTableSet(directory, EventIdIndex.FIRST_SLOT_BITS, EventIdIndex.HOT_SLOT_BITS);
        return new IdIndexCheckpoints(none).readCheckpoint(true).covered();
    }

    private Checkpoint readCheckpoint(boolean tablesExist) throws IOException {
        Path file = tables.directory.resolve(CHECKPOINT);
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
        // If the rename is lost, the previous checkpoint is read: it covers less, which only costs reading.
        DurableFiles.replace(tables.directory.resolve(CHECKPOINT), b);
    }

    private static int crc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 24);
        return (int) crc.getValue();
    }
}
