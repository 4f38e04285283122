package org.xdmedge.store.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.store.ids.EventIdIndex;

/**
 * The embedded dataset store: events appended to an {@link EventLog} by one thread that commits
 * many requests at once (group commit), with their ids claimed in an {@link EventIdIndex}. Per
 * group the writer claims every event's id in the index, appends the new events as one frame and
 * forces it to disk, then commits the claims and answers the group: an
 * acknowledgement means durable, and a retried {@code _id} is acknowledged without being stored
 * again (an id the edge minted for the event, {@link StoredEvent#mintedId}, cannot come again and
 * is not claimed). A request that cannot be written fails alone (its claims are undone back to a mark and
 * none of its events reaches the frame), so there is never half a batch.
 *
 * <p>Threads: {@link #write} queues a request from any thread (the event loops); the {@code
 * event-writer} thread alone takes groups from the queue, claims, appends and answers. The id
 * index runs two background threads of its own, retention one. On a one-CPU JVM the writer and
 * the queueing thread hand the CPU to each other ({@link WriterHandOver}), so a group holds what
 * the event loop has read; with more CPUs that does nothing.
 */
public final class EventLogStore implements EventSink {
    private static final Logger log = LoggerFactory.getLogger(EventLogStore.class);

    private final EventLog events;
    private final EventIdIndex ids;
    /** The next stored event's sequence number: rises by one per stored event. */
    private long nextSeq;
    /** The sequence number of the last event on disk, for readers on other threads (forwarding's lag). */
    private volatile long committedSeq;
    private final BlockingQueue<PendingWrite> queue;
    private final int maxRequestsPerCommit;
    /** Yields the CPU between the event loop and the writer on a one-CPU JVM (see its class comment). */
    private final WriterHandOver handOver;
    private final int retryAfterSeconds;
    private final Thread writer;
    private final AtomicLong storedEvents = new AtomicLong();
    private final AtomicLong duplicateEvents = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    /** Told how long each frame took to append and force (a group of retries only appends none): the commit timer. */
    private volatile LongConsumer frameWriteObserver = nanos -> { };
    private final List<PendingWrite> group;
    /** Per request of the group: its result, or null once it failed alone. */
    private final List<WriteResult> results;
    /** The group's new events and their sequence numbers, in order. */
    private final List<StoredEvent> toAppend = new ArrayList<>();
    /** Taken by the writer before each group; held by {@link #pauseWriter} to hold it. */
    private final Semaphore writerGate = new Semaphore(1);
    private volatile boolean accepting = true;
    /** Deletes old segments on its own thread; null unless a limit is set. */
    private final SegmentRetention retention;
    /** Set by the writer before its final drain, so a write racing with close() is never left unanswered. */
    private volatile boolean writerDone;
    private volatile boolean healthy = true;
    /** The log could not be brought back after a failure: writes are refused until a restart. */
    private volatile boolean failed;
    private boolean closed;
    /** The data directory's free space, and the floor below which writes are refused. */
    private final DiskSpace disk;

    private record PendingWrite(List<StoredEvent> events, CompletableFuture<WriteResult> done) {}

    private EventLogStore(Path dataDir, EventLog events, EventIdIndex ids, Options options,
                          SegmentRetention retention) {
        this.disk = new DiskSpace(dataDir);
        this.retention = retention;
        this.events = events;
        this.ids = ids;
        this.nextSeq = events.lastSeq() + 1;
        this.committedSeq = events.lastSeq();
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.maxRequestsPerCommit = options.maxRequestsPerCommit();
        this.retryAfterSeconds = options.retryAfterSeconds();
        this.handOver = options.writerHandOver() ? new WriterHandOver() : new WriterHandOver(false);
        this.group = new ArrayList<>(maxRequestsPerCommit);
        this.results = new ArrayList<>(maxRequestsPerCommit);
        this.writer = new Thread(this::writeLoop, "event-writer");
        this.writer.setDaemon(false);
        this.writer.start();
        if (retention != null) {
            retention.start();
        }
    }

    /**
     * How a store is opened. {@link #DEFAULTS} are the configuration's defaults ({@code storage.*}
     * in docs/CONFIGURATION.md); each setting has a method that returns a copy with it changed.
     *
     * @param queueCapacity requests that may wait for the writer; beyond, writes are refused (503)
     * @param maxRequestsPerCommit the most requests one group commit holds
     * @param retryAfterSeconds the {@code Retry-After} of a refused write
     * @param packing how each commit's frame is written ({@link FramePacking}); any packing is read back
     * @param retentionMaxBytes retention deletes the oldest segments while events take more (0: no limit)
     * @param retentionMaxAge retention deletes the segments written longer ago (null: no limit)
     * @param segmentBytes the size at which the log begins a new segment
     * @param idCheckpointMillis how often the id index checkpoints ({@link EventIdIndex})
     * @param retentionMillis how often retention looks
     * @param writerHandOver whether writer and event loop hand a one-CPU JVM's CPU to each other ({@link WriterHandOver})
     * @param zerosAhead whether a small frame that grows a segment writes zeros ahead ({@link EventLog})
     */
    public record Options(int queueCapacity, int maxRequestsPerCommit, int retryAfterSeconds, FramePacking packing,
                          long retentionMaxBytes, Duration retentionMaxAge, long segmentBytes,
                          long idCheckpointMillis, long retentionMillis, boolean writerHandOver, boolean zerosAhead) {
        public static final Options DEFAULTS = new Options(4096, 512, 1, FramePacking.LZ4, 0, null,
                EventLog.DEFAULT_SEGMENT_BYTES, EventIdIndex.DEFAULT_CHECKPOINT_MILLIS,
                SegmentRetention.DEFAULT_INTERVAL_MILLIS, true, true);

        public Options queueCapacity(int requests) {
            return new Options(requests, maxRequestsPerCommit, retryAfterSeconds, packing, retentionMaxBytes,
                    retentionMaxAge, segmentBytes, idCheckpointMillis, retentionMillis, writerHandOver, zerosAhead);
        }

        public Options maxRequestsPerCommit(int requests) {
            return new Options(queueCapacity, requests, retryAfterSeconds, packing, retentionMaxBytes, retentionMaxAge,
                    segmentBytes, idCheckpointMillis, retentionMillis, writerHandOver, zerosAhead);
        }

        public Options retryAfterSeconds(int seconds) {
            return new Options(queueCapacity, maxRequestsPerCommit, seconds, packing, retentionMaxBytes, retentionMaxAge,
                    segmentBytes, idCheckpointMillis, retentionMillis, writerHandOver, zerosAhead);
        }

        public Options packing(FramePacking framePacking) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, framePacking, retentionMaxBytes,
                    retentionMaxAge, segmentBytes, idCheckpointMillis, retentionMillis, writerHandOver, zerosAhead);
        }

        public Options retention(long maxBytes, Duration maxAge) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, packing, maxBytes, maxAge,
                    segmentBytes, idCheckpointMillis, retentionMillis, writerHandOver, zerosAhead);
        }

        /** {@code false}: the writer never yields to the event loop, even on one CPU ({@link WriterHandOver}). */
        public Options writerHandOver(boolean onOneCpu) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, packing, retentionMaxBytes,
                    retentionMaxAge, segmentBytes, idCheckpointMillis, retentionMillis, onOneCpu, zerosAhead);
        }

        /** {@code false}: a small frame that grows a segment writes no zeros ahead ({@link EventLog}). */
        public Options zerosAhead(boolean ahead) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, packing, retentionMaxBytes,
                    retentionMaxAge, segmentBytes, idCheckpointMillis, retentionMillis, writerHandOver, ahead);
        }

        Options segmentBytes(long bytes) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, packing, retentionMaxBytes,
                    retentionMaxAge, bytes, idCheckpointMillis, retentionMillis, writerHandOver, zerosAhead);
        }

        Options idCheckpointMillis(long millis) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, packing, retentionMaxBytes,
                    retentionMaxAge, segmentBytes, millis, retentionMillis, writerHandOver, zerosAhead);
        }

        Options retentionMillis(long millis) {
            return new Options(queueCapacity, maxRequestsPerCommit, retryAfterSeconds, packing, retentionMaxBytes,
                    retentionMaxAge, segmentBytes, idCheckpointMillis, millis, writerHandOver, zerosAhead);
        }

        SegmentRetention.Limits retentionLimits() {
            return new SegmentRetention.Limits(retentionMaxBytes, retentionMaxAge);
        }
    }

    /** Opens (creating if need be) the store under {@code dataDir} and starts its writer. */
    public static EventLogStore open(Path dataDir, Options options) throws IOException {
        return open(dataDir, options, null);
    }

    /** As {@link #open(Path, Options)}, with retention keeping what {@code hold} still needs (null: nothing). */
    public static EventLogStore open(Path dataDir, Options options, RetentionHold hold) throws IOException {
        EventLog events = EventLog.open(dataDir, options.segmentBytes(), options.packing());
        events.zerosAhead(options.zerosAhead());
        List<AutoCloseable> opened = new ArrayList<>();
        opened.add(events);
        try {
            EventIdIndex ids = EventIdIndex.open(dataDir, events.lastSeq(), options.idCheckpointMillis(),
                    (after, each) -> EventLogRecovery.scanIds(dataDir, after, each), DeletedEvents.load(dataDir).seqs());
            opened.add(ids);
            SegmentRetention.tellIndex(dataDir, ids); // of what retention deleted before this start
            SegmentRetention.Limits retention = options.retentionLimits();
            return new EventLogStore(dataDir, events, ids, options, retention.enabled()
                    ? new SegmentRetention(dataDir, retention, options.retentionMillis(), ids, hold) : null);
        } catch (IOException | RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).close();
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
            }
            throw e;
        }
    }

    @Override
    public CompletionStage<WriteResult> write(List<StoredEvent> events) {
        if (!accepting) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the store is shutting down", retryAfterSeconds));
        }
        if (failed) {
            return CompletableFuture.failedFuture(new SinkUnavailableException(
                    "the store failed and takes no writes until it is restarted", retryAfterSeconds));
        }
        if (disk.low()) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the disk of the data directory has less than "
                    + (disk.minFreeBytes() >> 20) + " MiB free", retryAfterSeconds));
        }
        PendingWrite pending = new PendingWrite(events, new CompletableFuture<>());
        if (!queue.offer(pending)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the store's write queue is full", retryAfterSeconds));
        }
        handOver.afterQueued(queue.size());
        // Raced with close(): the writer may already have taken its last look at the queue.
        if (writerDone && queue.remove(pending)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the store is shutting down", retryAfterSeconds));
        }
        return pending.done();
    }

    @Override
    public boolean ready() {
        return accepting && healthy && !failed && !disk.low() && writer.isAlive() && queue.remainingCapacity() > 0;
    }

    /** Usable bytes on the data directory's disk, as last read (at most a second old while the writer runs). */
    public long freeBytes() {
        return disk.freeBytes();
    }

    /** {@code storage.minFreeBytes}: the floor of free space below which writes are refused (0: none). */
    public void minFreeBytes(long bytes) {
        disk.minFreeBytes(bytes);
    }

    /** Replaces how free space is read (tests: a disk that fills without filling one). */
    void freeBytesProbe(LongSupplier probe) {
        disk.probe(probe);
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

    /** Bytes of the event log's frames written since start (packed, see {@link FramePacking}). */
    public long frameBytesWritten() {
        return events.frameBytes();
    }

    /** Bytes the same frames would have taken plain. */
    public long frameBytesPlain() {
        return events.plainFrameBytes();
    }

    /**
     * {@code observer} is told, on the writer thread, the nanoseconds each frame took to append and
     * force: the disk's share of a commit, whose slow tail is what a durable answer waits for.
     */
    public void observeFrameWrites(LongConsumer observer) {
        frameWriteObserver = observer;
    }

    /** Ids in the id index's tables. */
    public long indexedIds() {
        return ids.ids();
    }

    /** Bytes of the id index's table files: the memory its claims want cached. */
    public long idTableBytes() {
        return ids.tableBytes();
    }

    /** Tables of the id index a new id is looked up in. */
    public long idTables() {
        return ids.tables();
    }

    /** Merges of the id index's sealed tables since start. */
    public long idMerges() {
        return ids.merges();
    }

    /** The sequence number of the last stored event (0: none yet). */
    public long lastSeq() {
        return committedSeq;
    }

    /** Event segments retention deleted since start. */
    public long segmentsDeleted() {
        return retention == null ? 0 : retention.segmentsDeleted();
    }

    /** Retention passes that stopped short of their limits (a segment that cannot be deleted, say). */
    public long retentionFailures() {
        return retention == null ? 0 : retention.failures();
    }

    /** Bytes of event segments retention deleted since start. */
    public long segmentBytesDeleted() {
        return retention == null ? 0 : retention.bytesDeleted();
    }

    /** Checkpoints of the id index: its tables forced and the sequence number they cover recorded. */
    public long checkpoints() {
        return ids.checkpoints();
    }

    /**
     * Holds the writer before its next group until the returned handle is closed: writes queue up,
     * and once the queue is full they are refused with 503, as when the disk stalls (tests of
     * back-pressure use it). A pause does not hold back close(), which waits for it no longer
     * than its grace period.
     */
    /**
     * Asks the writer to begin a new segment (at its next commit, or within 50 ms when idle), so
     * the current one becomes closed and can be rewritten without deleted events.
     */
    public void requestRoll() {
        events.requestRoll();
    }

    /**
     * Privacy jobs deleted the events of these sequence numbers (every deleted event, ascending):
     * their ids claim nothing from now on, so the same id sent again is stored again. Any thread.
     */
    public void eventsDeleted(long[] seqs) {
        ids.deleted(seqs);
    }

    private void rollIfRequested() {
        try {
            events.rollIfRequested();
        } catch (IOException | RuntimeException e) {
            log.warn("event writer could not begin a new segment when asked: {}", e.toString());
        }
    }

    public AutoCloseable pauseWriter() throws InterruptedException {
        writerGate.acquire();
        AtomicBoolean resumed = new AtomicBoolean();
        return () -> {
            if (resumed.compareAndSet(false, true)) {
                writerGate.release();
            }
        };
    }

    private void writeLoop() {
        while (accepting || !queue.isEmpty()) {
            try {
                disk.check();
                PendingWrite first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    rollIfRequested();
                    continue;
                }
                group.add(first);
                handOver.writerYield();
                writerGate.acquire();
                writerGate.release();
                queue.drainTo(group, maxRequestsPerCommit - 1);
                handOver.committing(group.size());
                commitGroup();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                log.error("event writer failed a group of requestIds={}", requestIds(group), e);
                fail(group, e);
            } finally {
                handOver.committing(0);
                group.clear();
                results.clear();
                toAppend.clear();
            }
        }
        writerDone = true;
        List<PendingWrite> left = new ArrayList<>();
        queue.drainTo(left);
        fail(left, new SinkUnavailableException("the store stopped", retryAfterSeconds));
    }

    private void commitGroup() {
        if (failed) {
            fail(group, new SinkUnavailableException("the store failed and takes no writes until it is restarted", retryAfterSeconds));
            return;
        }
        long seqBefore = nextSeq;
        try {
            if (!claimAllOrNothing()) {
                claimEachAlone();
            }
        } catch (UncheckedIOException e) {
            abandon(seqBefore, "claiming the ids of", e);
            return;
        }
        if (!toAppend.isEmpty()) {
            events.begin();
            long seq = seqBefore;
            for (StoredEvent e : toAppend) {
                events.add(seq++, e);
            }
            long writeStarted = System.nanoTime();
            try {
                events.commit(nextSeq - 1);
                frameWriteObserver.accept(System.nanoTime() - writeStarted);
            } catch (IOException e) {
                if (events.broken()) {
                    failed = true;
                }
                abandon(seqBefore, "appending", e);
                return;
            }
        }
        // The new events are on disk: from here on every request of the group is acknowledged.
        ids.commit(nextSeq - 1);
        committedSeq = nextSeq - 1;
        healthy = true;
        commits.incrementAndGet();
        handOver.committing(0); // before the answers: the requests their clients send next are not counted twice
        for (int i = 0; i < group.size(); i++) {
            WriteResult result = results.get(i);
            if (result == null) {
                continue; // already failed alone
            }
            storedEvents.addAndGet(result.stored());
            duplicateEvents.addAndGet(result.duplicates());
            group.get(i).done().complete(result);
        }
    }

    /** Fails the whole group: its claims are rolled back, none of it was stored. */
    private void abandon(long seqBefore, String what, Exception e) {
        healthy = false;
        disk.checkDue(); // a full disk, maybe: looked at before the next group
        log.error("{} {} requests failed; none of them is acknowledged; requestIds={}", what, group.size(), requestIds(group), e);
        nextSeq = seqBefore;
        ids.rollback();
        fail(group, new SinkUnavailableException("the store could not write: " + e.getMessage(), retryAfterSeconds, e));
    }

    /**
     * The usual case: every claim of the group succeeds. On the first failure every claim is undone
     * and false returned; the group is then claimed again request by request, each alone.
     */
    private boolean claimAllOrNothing() {
        long seqBefore = nextSeq;
        try {
            for (PendingWrite pending : group) {
                results.add(claim(pending));
            }
            return true;
        } catch (UncheckedIOException | InvalidEvent e) {
            ids.rollback();
            nextSeq = seqBefore;
            results.clear();
            toAppend.clear();
            return false;
        }
    }

    private void claimEachAlone() {
        for (PendingWrite pending : group) {
            long seqBefore = nextSeq;
            int appendBefore = toAppend.size();
            int mark = ids.mark();
            try {
                results.add(claim(pending));
            } catch (UncheckedIOException | InvalidEvent e) {
                ids.rollbackTo(mark);
                nextSeq = seqBefore;
                toAppend.subList(appendBefore, toAppend.size()).clear();
                results.add(null);
                log.warn("requestId={} could not be stored: {}", requestId(pending), e.getMessage());
                pending.done().completeExceptionally(new SinkUnavailableException(
                        "the store refused the write: " + e.getMessage(), retryAfterSeconds, e));
            }
        }
    }

    /** An event the log cannot hold: a field every stored event has is missing. */
    private static final class InvalidEvent extends RuntimeException {
        InvalidEvent(String message) {
            super(message, null, false, false);
        }
    }

    /** Claims a request's ids; the new events join the frame. */
    private WriteResult claim(PendingWrite pending) {
        int stored = 0;
        for (StoredEvent e : pending.events()) {
            if (e.dataset() == null || e.datastreamId() == null || e.eventId() == null || e.requestId() == null
                    || e.eventJson() == null) {
                throw new InvalidEvent("an event without dataset, datastream, id, request id or body");
            }
            if (!e.mintedId() && !ids.claim(e, nextSeq)) {
                continue; // stored before: a retry, or the same id twice in one request
            }
            nextSeq++;
            toAppend.add(e);
            stored++;
        }
        return new WriteResult(stored, pending.events().size() - stored);
    }

    private static String requestId(PendingWrite pending) {
        return pending.events().isEmpty() ? "-" : pending.events().get(0).requestId();
    }

    /** The request ids of a group, so every log line about requests names them. */
    private static List<String> requestIds(List<PendingWrite> group) {
        List<String> ids = new ArrayList<>(group.size());
        for (PendingWrite pending : group) {
            ids.add(requestId(pending));
        }
        return ids;
    }

    private static void fail(List<PendingWrite> group, Throwable cause) {
        for (PendingWrite pending : group) {
            pending.done().completeExceptionally(cause);
        }
    }

    /** Stops accepting, commits everything already queued, then closes the files. */
    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }

    /**
     * Stops accepting and commits everything already queued, waiting at most {@code grace} for the
     * writer. The files are closed only once the writer has stopped; if it has not stopped in time
     * they stay open (every answered request is already on disk when the process then exits).
     *
     * @return true when every queued write was committed (or answered) and the files closed
     */
    public boolean close(Duration grace) {
        long deadline = System.nanoTime() + grace.toNanos();
        accepting = false;
        if (retention != null) {
            retention.stop(deadline); // closed means no file changes any more
        }
        try {
            writer.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
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
        ids.close(deadline);
        try {
            events.close();
        } catch (IOException e) {
            log.warn("closing the event log: {}", e.getMessage());
        }
        return true;
    }
}
