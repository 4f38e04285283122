package org.xdmedge.store.ids;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-id index's merger thread ({@code event-id-merge}): merges the newest sealed tables
 * into one, and drops the tables whose events retention deleted.
 *
 * <p>Policy: the newest sealed tables are merged while the next older one holds at most {@value
 * #MERGE_RATIO} times their ids, so table sizes at least double with age, a lookup probes about
 * log2(ids / first table) tables, and each id is rewritten a few times over its life,
 * sequentially ({@link IdTableMerge}). A merged table is the smallest whose slots its ids fill to
 * at most {@value #MERGED_LOAD}, up to 2^{@value #LARGEST_SLOT_BITS} slots; beyond, tables add up.
 * A table most of whose ids belong to events retention deleted is rewritten alone; one all of
 * whose events are gone is dropped.
 *
 * <p>Invariants: a sealed table is merged only once the writer has committed with the current hot
 * table ({@link IdTableSet#hotAtCommit}), so none has a claim left to undo. A merge never takes
 * the disk space the events need ({@link #MERGE_SPARE_BYTES}).
 *
 * <p>Threads: this one alone removes sealed tables (under {@link IdTableSet#makeLock}); the merge
 * itself reads tables that take no more changes, outside every lock, and gives up within a step
 * once the index closes.
 */
final class IdTableMerger {
    /** Merged tables stop growing at 2^28 slots (8 GiB files, ~190M ids each); beyond, they add up. */
    static final int LARGEST_SLOT_BITS = 28;
    /** See the class comment: sizes at least double with age. */
    static final int MERGE_RATIO = 2;
    /** A merged table is the smallest whose slots its ids fill to at most this. */
    private static final double MERGED_LOAD = 0.7;
    /** Free disk space a merge leaves for the event log, beyond its new table. */
    static final long MERGE_SPARE_BYTES = 1L << 30;
    private static final Logger log = LoggerFactory.getLogger(IdTableMerger.class);

    private final IdTableSet tables;
    private final AtomicLong merges = new AtomicLong();
    private boolean lowOnSpace;

    private record MergePlan(List<IdTable> sources, int slotBits, long ids) {}

    IdTableMerger(IdTableSet tables) {
        this.tables = tables;
    }

    Thread start() {
        Thread thread = new Thread(this::run, "event-id-merge");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Merges made since start. */
    long merges() {
        return merges.get();
    }

    private void run() {
        while (!tables.closing) {
            try {
                if (expire()) {
                    continue;
                }
                MergePlan plan;
                synchronized (tables.signal) {
                    plan = tables.closing ? null : planMerge();
                    if (plan == null && !tables.closing) {
                        tables.signal.wait(1_000);
                    }
                }
                if (tables.closing) {
                    break;
                }
                if (plan == null) {
                    continue;
                }
                if (!roomFor(plan)) {
                    tables.pause(60_000);
                    continue;
                }
                merge(plan);
                lowOnSpace = false;
            } catch (InterruptedException e) {
                break;
            } catch (IOException | RuntimeException e) {
                if (tables.closing) {
                    break;
                }
                log.warn("merging event-id tables failed, retried in 10 s: {}", e.toString());
                tables.pause(10_000);
            }
        }
    }

    /**
     * The newest sealed tables to merge: the newest, and each next older one while it holds at
     * most {@value #MERGE_RATIO} times the ids taken so far; null if fewer than two, or while a
     * sealed table may still have a claim to undo (the writer has not committed since sealing).
     */
    private MergePlan planMerge() {
        synchronized (tables.makeLock) {
            if (tables.hotAtCommit != tables.hot || tables.sealed.isEmpty()) {
                return null;
            }
            List<IdTable> sources = new ArrayList<>();
            long ids = 0;
            int bits = 0;
            for (IdTable table : tables.sealed) {
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
            for (IdTable table : tables.sealed) {
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
        long floor = tables.retainedFrom;
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
        long floor = tables.retainedFrom;
        if (floor <= 1) {
            return false;
        }
        List<IdTable> candidates;
        synchronized (tables.makeLock) {
            if (tables.hotAtCommit != tables.hot) {
                return false;
            }
            candidates = List.copyOf(tables.sealed);
        }
        List<IdTable> expired = new ArrayList<>();
        for (IdTable table : candidates) {
            if (table.seqRange()[1] < tables.retainedFrom) {
                expired.add(table);
            }
        }
        if (expired.isEmpty()) {
            return false;
        }
        long ids = expired.stream().mapToLong(IdTable::count).sum();
        tables.replaceSealed(expired, null);
        log.info("event-id index: {} tables ({} ids) dropped: all their events are past retention", expired.size(), ids);
        return true;
    }

    /** The fewest slot bits (at least the first table's) whose slots {@code ids} fill to at most {@link #MERGED_LOAD}. */
    private int slotBitsFor(long ids) {
        int bits = Math.max(IdTable.MIN_SLOT_BITS, tables.firstSlotBits);
        while (bits < 62 && (double) ids > MERGED_LOAD * (1L << bits)) {
            bits++;
        }
        return bits;
    }

    /** Merges the plan's sources into a new table and swaps it in for them. */
    private void merge(MergePlan plan) throws IOException {
        long started = System.nanoTime();
        long floor = tables.retainedFrom;
        int slotBits = plan.slotBits();
        if (floor > 1) { // the plan only estimated what retention leaves: the new table is sized on the count
            long live = 0;
            for (IdTable source : plan.sources()) {
                live += source.countFrom(floor);
            }
            slotBits = Math.min(IdTable.MAX_SLOT_BITS, slotBitsFor(live));
        }
        long number = tables.nextNumber.getAndIncrement();
        Path file = tables.directory.resolve(IdTable.fileName(number));
        long order = plan.sources().stream().mapToLong(IdTable::order).max().orElse(0);
        long ids = IdTableMerge.merge(IdTableMerge.Spec.of(file, slotBits, tables.seed, order, plan.sources())
                .from(floor).without(tables.deleted).stoppedBy(() -> tables.closing).paced(tables.backgroundPace));
        IdTable merged = IdTable.open(file);
        merged.settled(true); // forced as it was made
        tables.replaceSealed(plan.sources(), merged);
        merges.incrementAndGet();
        log.info("event-id index: merged {} tables ({} ids) into {} (2^{} slots) in {} ms", plan.sources().size(), ids,
                file.getFileName(), slotBits, (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * Whether the disk has room for the plan's new table and {@link #MERGE_SPARE_BYTES} more: a
     * merge must never take the space the events need (their writes would fail). Warns once while
     * it has not.
     */
    private boolean roomFor(MergePlan plan) throws IOException {
        long needed = IdTable.HEADER_BYTES + (IdTable.SLOT_BYTES << plan.slotBits()) + MERGE_SPARE_BYTES;
        long usable = Files.getFileStore(tables.directory).getUsableSpace();
        if (usable >= needed) {
            return true;
        }
        if (!lowOnSpace) {
            log.warn("event-id index: not merging {} sealed tables: {} MB free on disk, {} MB wanted; new ids are looked "
                    + "up in {} tables meanwhile", plan.sources().size(), usable >> 20, needed >> 20, tables.view.length);
            lowOnSpace = true;
        }
        return false;
    }
}
