package org.xdmedge.privacy;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.DurableFiles;
import org.xdmedge.store.NumberedFiles;
import org.xdmedge.store.log.DeletedEvents;
import org.xdmedge.store.log.FramePacking;
import org.xdmedge.store.log.SegmentRewrite;

/**
 * Runs privacy jobs on one thread of its own ({@code privacy-jobs}), never on an event loop, and
 * keeps them under {@code <data>/privacy/}: {@code jobs/<id>.json} (each written whole, forced and
 * renamed), {@code downloads/<id>.jsonl} (an access job's events), and the delete jobs' lists in
 * {@link DeletedEvents}. A job still {@code processing} at start runs again: every step is safe to
 * repeat (a delete's list is the union of what each run found).
 *
 * <p>A delete job, in order: finds the events ({@link PersonEvents}); writes their list (from
 * then on no reader shows them, and the running store's dedup index no longer counts their ids);
 * deletes the identity state of the person's ECIDs; marks the job complete. Reclaiming follows on
 * the same thread: segments holding deleted events are rewritten ({@link SegmentRewrite}); the
 * segment being appended to is first closed by asking the writer for a new one. Once no segment
 * holds them, the job forgets the identity it was asked about.
 */
public final class PrivacyJobs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PrivacyJobs.class);
    private static final String JOBS = "privacy/jobs";
    private static final String DOWNLOADS = "privacy/downloads";
    /**
     * Jobs waiting for the thread at most: two requests of the most users one may name. Each job
     * reads the whole log, so a longer queue would only hold callers' jobs for hours.
     */
    public static final int MAX_QUEUED_JOBS = 2 * JobRequest.MAX_USERS;

    /** {@link #submit} refused a request: the queue holds too many jobs (answer 503, try later). */
    public static final class QueueFull extends Exception {
        public QueueFull(int queued) {
            super(queued + " privacy jobs are waiting; try again later");
        }
    }

    private final Path dataDir;
    private final Map<String, String> orgOfDatastream;
    private final BiConsumer<String, String> forgetIdentity;
    private final Runnable requestRoll;
    private final FramePacking packing;
    private final Duration reclaimWithin;
    private final ScheduledExecutorService thread;
    private final Map<String, PrivacyJob> jobs = new ConcurrentHashMap<>();
    /** Job runs queued on the thread and not begun: {@link #submit} takes no more than {@link #MAX_QUEUED_JOBS}. */
    private final AtomicInteger queued = new AtomicInteger();
    private volatile int maxQueued = MAX_QUEUED_JOBS;
    private volatile boolean reclaimScheduled;
    private volatile boolean closing;
    private volatile DeletionRecords kafka;
    private volatile Consumer<long[]> deletedListed = seqs -> { };
    private volatile PrivacyMetrics metrics = PrivacyMetrics.unbound(jobs::values, queued::get);

    /**
     * @param orgOfDatastream each configured datastream's organization
     * @param forgetIdentity deletes one (organization, ECID)'s identity state
     * @param requestRoll asks the running writer for a new segment; null when no writer runs (the
     *                    newest segment is then rewritten too)
     */
    public PrivacyJobs(Path dataDir, Map<String, String> orgOfDatastream, BiConsumer<String, String> forgetIdentity,
                       Runnable requestRoll, FramePacking packing, Duration reclaimWithin) throws IOException {
        this.dataDir = dataDir;
        this.orgOfDatastream = Map.copyOf(orgOfDatastream);
        this.forgetIdentity = forgetIdentity;
        this.requestRoll = requestRoll;
        this.packing = packing;
        this.reclaimWithin = reclaimWithin;
        Files.createDirectories(dataDir.resolve(JOBS));
        Files.createDirectories(dataDir.resolve(DOWNLOADS));
        SegmentRewrite.removeLeftovers(dataDir);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dataDir.resolve(JOBS), "*.json")) {
            for (Path f : files) {
                PrivacyJob job = EdgeJson.MAPPER.readValue(f.toFile(), PrivacyJob.class);
                jobs.put(job.jobId(), job);
            }
        }
        for (Path dir : List.of(dataDir.resolve(JOBS), dataDir.resolve(DOWNLOADS))) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.tmp")) {
                for (Path f : files) {
                    Files.deleteIfExists(f);
                }
            }
        }
        thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "privacy-jobs");
            t.setDaemon(true);
            return t;
        });
    }

    /** Sends a deletion record per delete job (and tombstones) to Kafka; closed with this. */
    public PrivacyJobs publishTo(DeletionRecords records) {
        this.kafka = records;
        return this;
    }

    /** Takes at most {@code jobs} waiting jobs instead of {@link #MAX_QUEUED_JOBS} (tests). */
    public PrivacyJobs queueLimit(int jobs) {
        this.maxQueued = jobs;
        return this;
    }

    /**
     * Tells the running store every deleted event's sequence number after each delete job's list is
     * written, so their ids leave the dedup index at once (a stopped store reads the lists at open).
     */
    public PrivacyJobs onDeleted(Consumer<long[]> store) {
        this.deletedListed = store;
        return this;
    }

    /** Counts into the edge's registry from now on ({@link PrivacyMetrics}). */
    public PrivacyJobs bindMetrics(MeterRegistry registry) {
        this.metrics = new PrivacyMetrics(registry, jobs::values, queued::get);
        return this;
    }

    /** Resumes the jobs a stop left processing, and reclaiming. */
    public PrivacyJobs start() {
        jobs.values().stream().filter(j -> PrivacyJob.PROCESSING.equals(j.status()))
                .sorted((a, b) -> Long.compare(a.createdAt(), b.createdAt()))
                .forEach(j -> enqueue(j.jobId(), 0));
        scheduleReclaim(0);
        return this;
    }

    /**
     * Records one job per user identity, durably, and queues them; blocks (file writes). Refuses the
     * whole request, recording nothing, when its jobs would make the queue longer than its limit.
     */
    public List<PrivacyJob> submit(JobRequest request) throws IOException, QueueFull {
        int waiting = queued.get();
        if (waiting + request.users().size() > maxQueued) {
            throw new QueueFull(waiting);
        }
        List<PrivacyJob> made = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (JobRequest.User u : request.users()) {
            PrivacyJob job = new PrivacyJob(UUID.randomUUID().toString(), u.key(), u.action(), request.orgId(),
                    u.namespace(), u.value(), request.regulation(), PrivacyJob.PROCESSING, now, 0, 0, false, null);
            save(job);
            made.add(job);
        }
        for (PrivacyJob job : made) {
            enqueue(job.jobId(), 0);
        }
        return made;
    }

    public Optional<PrivacyJob> get(String jobId) {
        return Optional.ofNullable(jobs.get(jobId));
    }

    /** The download of a complete access job, or null. */
    public Path download(String jobId) {
        PrivacyJob job = jobs.get(jobId);
        if (job == null || job.delete() || !PrivacyJob.COMPLETE.equals(job.status())) {
            return null;
        }
        Path file = dataDir.resolve(DOWNLOADS).resolve(jobId + ".jsonl");
        return Files.exists(file) ? file : null;
    }

    /** Removes an access job and its download (the command line's, once printed). */
    public void discard(String jobId) throws IOException {
        PrivacyJob job = jobs.remove(jobId);
        if (job != null && !job.delete()) {
            Files.deleteIfExists(dataDir.resolve(DOWNLOADS).resolve(jobId + ".jsonl"));
            Files.deleteIfExists(dataDir.resolve(JOBS).resolve(jobId + ".json"));
            NumberedFiles.forceDirectory(dataDir.resolve(JOBS));
        }
    }

    /** Waits for the jobs thread to be idle (tests, the command line). */
    public void awaitIdle(Duration within) throws InterruptedException {
        var done = new CountDownLatch(1);
        thread.execute(done::countDown);
        done.await(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Jobs queued and not yet begun. */
    public int queued() {
        return queued.get();
    }

    private void enqueue(String jobId, long delaySeconds) {
        queued.incrementAndGet();
        Runnable task = () -> {
            queued.decrementAndGet();
            run(jobId);
        };
        try {
            if (delaySeconds == 0) {
                thread.execute(task);
            } else {
                thread.schedule(task, delaySeconds, TimeUnit.SECONDS);
            }
        } catch (RejectedExecutionException e) {
            queued.decrementAndGet(); // closing: the job runs again at the next start
        }
    }

    private void run(String jobId) {
        PrivacyJob job = jobs.get(jobId);
        if (job == null || !PrivacyJob.PROCESSING.equals(job.status())) {
            return;
        }
        long started = System.nanoTime();
        try {
            long events;
            if (job.delete()) {
                PersonEvents.Found found = PersonEvents.find(dataDir, orgOfDatastream, job.orgId(), job.namespace(),
                        job.value());
                long[] before = DeletedEvents.readList(dataDir, jobId);
                long[] seqs = found.seqs();
                if (before != null) {
                    seqs = LongStream.concat(Arrays.stream(before), Arrays.stream(seqs)).distinct().toArray();
                }
                DeletedEvents.write(dataDir, jobId, seqs);
                deletedListed.accept(DeletedEvents.load(dataDir).seqs());
                for (String ecid : found.ecids()) {
                    forgetIdentity.accept(job.orgId(), ecid);
                }
                forgetDownloads(job);
                events = seqs.length;
                if (kafka != null) {
                    try {
                        kafka.publish(job, found.ecids(), events);
                    } catch (IOException e) {
                        // Deleted here already; the job stays processing and runs again for Kafka's sake.
                        log.warn("privacy job {}: {}; tried again in 30 s", jobId, e.getMessage());
                        if (!closing) {
                            enqueue(jobId, 30);
                        }
                        return;
                    }
                }
            } else {
                events = writeDownload(job);
            }
            save(job.complete(events, System.currentTimeMillis()));
            metrics.finished(job.action(), System.nanoTime() - started, events, true);
            log.info("privacy job {} ({}) complete: {} events", jobId, job.action(), events);
            if (job.delete()) {
                scheduleReclaim(reclaimWithin.toMillis() / 2);
            }
        } catch (IOException | RuntimeException e) {
            if (closing) {
                return; // cut short by a stop: it runs again at the next start
            }
            log.warn("privacy job {} failed: {}", jobId, e.toString());
            metrics.finished(job.action(), System.nanoTime() - started, 0, false);
            try {
                save(job.failed(e.getMessage() == null ? e.toString() : e.getMessage(), System.currentTimeMillis()));
            } catch (IOException again) {
                log.warn("privacy job {}: its state could not be written: {}", jobId, again.toString());
            }
        }
    }

    /** Earlier access jobs' downloads of the same person go with a delete. */
    private void forgetDownloads(PrivacyJob delete) throws IOException {
        for (PrivacyJob other : jobs.values()) {
            if (!other.delete() && delete.orgId().equals(other.orgId()) && delete.namespace().equals(other.namespace())
                    && delete.value().equals(other.value())) {
                Files.deleteIfExists(dataDir.resolve(DOWNLOADS).resolve(other.jobId() + ".jsonl"));
                save(other.reclaimedNow());
            }
        }
    }

    /**
     * Finds the person's events and writes them as they are found, in the same reading: those of
     * the main reading to one file, those of the catch-up (earlier events, see {@link PersonEvents})
     * to another, then merged by sequence number, so the download is in the log's order.
     */
    private long writeDownload(PrivacyJob job) throws IOException {
        Path dir = dataDir.resolve(DOWNLOADS);
        Path main = dir.resolve(job.jobId() + ".jsonl.tmp");
        Path later = dir.resolve(job.jobId() + ".catchup.tmp");
        LongStream.Builder mainSeqs = LongStream.builder();
        LongStream.Builder laterSeqs = LongStream.builder();
        long[] found = {0, 0};
        try (OutputStream a = new BufferedOutputStream(Files.newOutputStream(main), 1 << 16);
             OutputStream b = new BufferedOutputStream(Files.newOutputStream(later), 1 << 16)) {
            PersonEvents.find(dataDir, orgOfDatastream, job.orgId(), job.namespace(), job.value(), (seq, e, catchUp) -> {
                OutputStream out = catchUp ? b : a;
                EventRecords.write(e, out);
                out.write('\n');
                (catchUp ? laterSeqs : mainSeqs).add(seq);
                found[catchUp ? 1 : 0]++;
            });
        }
        if (found[1] > 0) {
            Path merged = dir.resolve(job.jobId() + ".merged.tmp");
            DownloadMerge.merge(main, mainSeqs.build().toArray(), later, laterSeqs.build().toArray(), merged);
            Files.move(merged, main, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.delete(later);
        DurableFiles.publish(main, dir.resolve(job.jobId() + ".jsonl"));
        return found[0] + found[1];
    }

    private synchronized void scheduleReclaim(long delayMillis) {
        if (!reclaimScheduled) {
            reclaimScheduled = true;
            thread.schedule(() -> {
                reclaimScheduled = false;
                reclaim();
            }, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
        }
    }

    /** Rewrites what holds deleted events; marks the delete jobs reclaimed once nothing does. */
    private void reclaim() {
        List<PrivacyJob> pending = jobs.values().stream()
                .filter(j -> j.delete() && PrivacyJob.COMPLETE.equals(j.status()) && !j.reclaimed()).toList();
        if (pending.isEmpty()) {
            return;
        }
        try {
            DeletedEvents deleted = DeletedEvents.load(dataDir);
            SegmentRewrite.Result result = SegmentRewrite.apply(dataDir, deleted, packing, requestRoll == null);
            metrics.rewrote(result.segments(), result.reclaimedBytes());
            if (result.segments() > 0) {
                log.info("privacy: rewrote {} event segments without {} deleted events", result.segments(),
                        result.blankedEvents());
            }
            if (result.activeHoldsDeleted()) {
                requestRoll.run();
                scheduleReclaim(200); // once the writer has begun the next segment
                return;
            }
            for (PrivacyJob job : pending) {
                save(job.reclaimedNow());
            }
        } catch (IOException | RuntimeException e) {
            log.warn("privacy: reclaiming deleted events' bytes failed, tried again in 60 s: {}", e.toString());
            scheduleReclaim(60_000);
        }
    }

    private void save(PrivacyJob job) throws IOException {
        Path dir = dataDir.resolve(JOBS);
        DurableFiles.replace(dir.resolve(job.jobId() + ".json"), ByteBuffer.wrap(EdgeJson.MAPPER.writeValueAsBytes(job)));
        jobs.put(job.jobId(), job);
    }

    @Override
    public void close() {
        closing = true;
        thread.shutdownNow();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (kafka != null) {
            kafka.close();
        }
    }
}
