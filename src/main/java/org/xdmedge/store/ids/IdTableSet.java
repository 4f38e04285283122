package org.xdmedge.store.ids;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.store.NumberedFiles;

/**
 * The tables of one {@link EventIdIndex} and what its three threads share about them.
 *
 * <p>Layout: {@code <data>/ids/NNNNNN.ids}, one {@link IdTable} per file, numbered in the order
 * they are made; every table of an index shares one hash seed, so a merge reads its sources in
 * hash order. The {@link #view} is the hot table (index 0, the one that takes claims) followed by
 * the sealed tables, newest first: a claim probes them in that order.
 *
 * <p>Invariants: only the writer replaces {@link #hot} (sealing the old one in front of {@link
 * #sealed}); only the merger removes sealed tables, replacing neighbours by their merge or
 * dropping expired ones; both do so under {@link #makeLock} and publish a new {@link #view}. A
 * table taken out of the view is <em>retired</em>, and unmapped only once the writer has committed
 * after the swap, since a claim that read the old view may still be probing it until then.
 *
 * <p>Threads: the event writer (claims, {@link EventIdIndex}), the maintainer ({@link
 * IdIndexMaintainer}) and the merger ({@link IdTableMerger}). Fields the writer alone writes are
 * volatile where the others read them; {@link #signal} wakes the maintainer and the merger.
 */
final class IdTableSet {
    /**
     * The rate the maintainer and the merger write at (new tables' zeros, checkpoints, merges), in
     * bytes per second: well below what a disk of this kind takes, so the events' commits rarely
     * wait behind a background step. The system property {@code xdmedge.idsWriteBytesPerSecond} is
     * for experiments (0: unpaced).
     */
    static final long BACKGROUND_WRITE_BYTES_PER_SECOND = Long.getLong("xdmedge.idsWriteBytesPerSecond", 64L << 20);
    private static final Logger log = LoggerFactory.getLogger(IdTableSet.class);

    final Path directory;
    final int firstSlotBits;
    final int hotSlotBits;
    /** The hash seed every table of the index shares (so a merge reads its sources in order); set while opening. */
    long seed;
    /** The table claims go into: the writer's; replaced under {@link #makeLock}. */
    IdTable hot;
    /** The sealed tables, newest first; under {@link #makeLock}. */
    final List<IdTable> sealed = new ArrayList<>();
    /** The hot table, then the sealed ones newest first: what a claim probes; published under {@link #makeLock}. */
    volatile IdTable[] view;
    /** Held while the tables change: the writer seals the hot one, the merger swaps in a merge. */
    final Object makeLock = new Object();
    /** Wakes the maintainer and the merger: a next hot table is wanted, a table was sealed, or the index closes. */
    final Object signal = new Object();
    /** The next hot table, made ahead by the maintainer, until the writer takes it. */
    final AtomicReference<IdTable> prepared = new AtomicReference<>();
    /** Set by the writer once the hot table is a quarter full: the maintainer makes the next one. */
    volatile boolean prepareWanted;
    /** The next table file's number. */
    final AtomicLong nextNumber = new AtomicLong(1);
    /**
     * The hot table as of the writer's last commit: once it is the hot table, no sealed table has
     * a claim left to undo, so sealed tables may be merged and settled.
     */
    volatile IdTable hotAtCommit;
    /** Commits so far: a table the writer stopped looking at before one is safe to unmap after it. */
    volatile long commits;
    /** The last sequence number whose claim is committed (its event is in the log). */
    volatile long committedThrough;
    /** Retention deleted the events below this sequence number: merges leave their ids out. */
    volatile long retainedFrom;
    /**
     * The sequence numbers of deleted events, ascending (privacy jobs): an entry holding one of them
     * claims nothing, and merges leave it out. Only ever grows.
     */
    volatile long[] deleted = new long[0];
    volatile boolean closing;
    /** Paces the maintainer's and the merger's writes; gives up once the index closes. */
    final WritePace backgroundPace = new WritePace(BACKGROUND_WRITE_BYTES_PER_SECOND, () -> closing);

    /** A table taken out of the view, unmapped and deleted once the writer committed after {@code afterCommits}. */
    record Retired(IdTable table, long afterCommits) {}

    final ConcurrentLinkedQueue<Retired> retired = new ConcurrentLinkedQueue<>();

    IdTableSet(Path directory, int firstSlotBits, int hotSlotBits) {
        this.directory = directory;
        this.firstSlotBits = Math.min(firstSlotBits, hotSlotBits);
        this.hotSlotBits = hotSlotBits;
    }

    /** Publishes {@link #hot} and {@link #sealed} as the {@link #view}; under {@link #makeLock} (or while opening). */
    void publishView() {
        IdTable[] next = new IdTable[1 + sealed.size()];
        next[0] = hot;
        for (int i = 0; i < sealed.size(); i++) {
            next[i + 1] = sealed.get(i);
        }
        view = next;
    }

    /** Wakes the maintainer and the merger. */
    void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** A new empty table of {@code 2^slotBits} slots, numbered after every other. */
    IdTable makeTable(int slotBits) throws IOException {
        return makeTable(slotBits, () -> false, WritePace.UNPACED);
    }

    IdTable makeTable(int slotBits, BooleanSupplier stop, WritePace pace) throws IOException {
        long number = nextNumber.getAndIncrement();
        Path file = directory.resolve(IdTable.fileName(number));
        if (Files.exists(file)) {
            throw new IOException(file + " exists already; the event-id index does not overwrite a table");
        }
        IdTable.create(file, slotBits, seed, number, stop, pace);
        return IdTable.open(file);
    }

    /** The slot bits of the hot table after {@code current}: doubling up to {@link #hotSlotBits}. */
    int nextHotSlotBits(IdTable current) {
        return Math.max(current.slotBits(), Math.min(hotSlotBits, current.slotBits() + 1));
    }

    List<Path> tableFiles() throws IOException {
        return NumberedFiles.list(directory, IdTable.SUFFIX);
    }

    static long tableNumber(Path file) {
        return NumberedFiles.number(file, IdTable.SUFFIX);
    }

    static void discard(IdTable unused) {
        try {
            unused.delete();
        } catch (IOException e) {
            // Left on disk it is an empty table: the next start deletes it.
            log.warn("could not delete the unused event-id table {}: {}", unused.file(), e.toString());
        }
    }

    /**
     * Takes {@code out} (sealed tables, newest first and next to each other) out of the view, with
     * {@code in} in their place if not null, and retires them. The merger's alone (it alone removes
     * sealed tables; the writer only adds in front). Retired only after the new view is published:
     * a claim that read the old view then ends before the writer's next commit, which no unmapping
     * precedes.
     */
    void replaceSealed(List<IdTable> out, IdTable in) {
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
        wake();
    }

    boolean retiredDue() {
        Retired first = retired.peek();
        return first != null && commits > first.afterCommits();
    }

    /**
     * Unmaps and deletes the retired tables once the writer has committed since they were taken
     * out (a claim that began before may still have been probing them); {@code all}: the writer
     * has stopped.
     */
    void deleteRetired(boolean all) throws IOException {
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
    void pause(long millis) {
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

    static long totalBytes(List<IdTable> tables) {
        long total = 0;
        for (IdTable table : tables) {
            total += table.fileBytes();
        }
        return total;
    }

    /**
     * Closes every table's file. Retired tables' files stay (the next start deletes those a merge
     * replaced); a next table made ahead stays too (the next start takes it as the hot table).
     */
    void closeTables() {
        List<IdTable> all = new ArrayList<>();
        if (view != null) {
            all.addAll(List.of(view));
        } else if (hot != null) {
            all.add(hot);
        }
        for (Retired r : retired) {
            all.add(r.table());
        }
        retired.clear();
        IdTable next = prepared.getAndSet(null);
        if (next != null) {
            all.add(next);
        }
        for (IdTable table : all) {
            try {
                table.close();
            } catch (IOException e) {
                log.warn("closing {}: {}", table.file(), e.getMessage());
            }
        }
    }

    /** Whether {@code seq} is among {@code deleted} (an ascending array). */
    static boolean isDeleted(long[] deleted, long seq) {
        return deleted.length > 0 && Arrays.binarySearch(deleted, seq) >= 0;
    }
}
