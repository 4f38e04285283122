package org.xdmedge.store.ids;

import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-id index's maintainer thread ({@code event-id-index}): makes the next hot table ahead,
 * runs the periodic checkpoint, and deletes the tables a merge retired.
 *
 * <p>Next table: once the writer finds the hot table a quarter full it sets {@link
 * IdTableSet#prepareWanted}; this thread then makes a table of zeros (paced, outside every lock)
 * and leaves it in {@link IdTableSet#prepared} for the writer to take when the hot one is half
 * full. Making it here keeps the zeros' writes off the writer; the writer makes one itself only
 * if it is not ready by three quarters full. A table made here after the writer made its own is
 * numbered before it, and tables take claims in number order, so it is dropped.
 *
 * <p>Checkpoint: every {@code checkpointMillis} ({@link IdIndexCheckpoints#checkpoint}).
 *
 * <p>Threads: this one alone; it reads the writer's fields through {@link IdTableSet} and takes
 * {@link IdTableSet#makeLock} only to compare its table with the hot one. A failure is logged and
 * retried; the writer never depends on this thread for correctness.
 */
final class IdIndexMaintainer {
    private static final Logger log = LoggerFactory.getLogger(IdIndexMaintainer.class);

    private final IdTableSet tables;
    private final IdIndexCheckpoints checkpoints;
    private final long checkpointMillis;

    IdIndexMaintainer(IdTableSet tables, IdIndexCheckpoints checkpoints, long checkpointMillis) {
        this.tables = tables;
        this.checkpoints = checkpoints;
        this.checkpointMillis = checkpointMillis;
    }

    Thread start() {
        Thread thread = new Thread(this::run, "event-id-index");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private void run() {
        long nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
        while (!tables.closing) {
            try {
                awaitWork(nextCheckpoint);
                if (tables.closing) {
                    break;
                }
                if (nextTableWanted()) {
                    prepareNextTable();
                }
                tables.deleteRetired(false);
                if (System.nanoTime() >= nextCheckpoint) {
                    checkpoints.checkpoint(false);
                    nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
                }
            } catch (InterruptedException e) {
                break;
            } catch (IOException | RuntimeException e) {
                if (tables.closing) {
                    break;
                }
                // The writer makes the next table itself if need be; checkpoints are retried later.
                log.warn("event-id index maintenance failed, retried in {} ms: {}", checkpointMillis, e.toString());
                nextCheckpoint = System.nanoTime() + checkpointMillis * 1_000_000;
                tables.pause(Math.min(checkpointMillis, 1_000));
            }
        }
    }

    private boolean nextTableWanted() {
        return tables.prepareWanted && tables.prepared.get() == null;
    }

    /** Waits until a next table is wanted, a retired table is due, the checkpoint is due, or the index closes. */
    private void awaitWork(long nextCheckpoint) throws InterruptedException {
        synchronized (tables.signal) {
            long waitMillis = (nextCheckpoint - System.nanoTime()) / 1_000_000;
            if (!tables.closing && !nextTableWanted() && !tables.retiredDue() && waitMillis > 0) {
                tables.signal.wait(tables.retired.isEmpty() ? waitMillis : Math.min(waitMillis, 100));
            }
        }
    }

    /**
     * Makes the next hot table outside any lock (a stop is not held back: it gives up then). If
     * the writer could not wait and made one itself meanwhile, this one is older than it: dropped.
     */
    private void prepareNextTable() throws IOException {
        IdTable current = tables.hot;
        IdTable made = tables.makeTable(tables.nextHotSlotBits(current), () -> tables.closing, tables.backgroundPace);
        boolean overtaken;
        synchronized (tables.makeLock) { // where the writer swaps the hot table
            overtaken = made.order() < tables.hot.order();
        }
        if (overtaken) {
            IdTableSet.discard(made); // it would take claims out of order
        } else {
            tables.prepared.set(made);
        }
    }
}
