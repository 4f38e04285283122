package org.xdmedge.forwarding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.config.DestinationConfig;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.store.log.EventReader;

/**
 * One destination's delivery, on its own thread: reads the event log after the destination's saved
 * position, keeps the events its datastreams and event types select, and sends them one batch at a
 * time, in the log's order. The position is saved after the destination's 2xx (or once the batch's
 * events are dead letters), so a restart sends again at most the batch that was in flight.
 *
 * <p>It only reads the log: a slow or dead destination holds back nothing but itself (and, up to
 * {@code forwarding.maxLagBytes}, retention).
 */
public final class Forwarder {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
    /** Events visited per reading of the log at most, so a long filtered-out stretch does not hold the thread. */
    private static final int MAX_VISITED_PER_SCAN = 100_000;

    /** An event selected for this destination, with what consent needs of it; its JSON is read (without a tree) only when the type or the ECID needs it. */
    record Pending(long seq, StoredEvent event, String orgId, String ecid) {}

    private final DestinationConfig config;
    private final HttpDestination sender;
    private final Path dataDir;
    private final Path positionFile;
    /** Datastream id to the event types it forwards here (empty: all). */
    private final Map<String, Set<String>> routes;
    /** Datastream id to its organization (consent is kept per organization). */
    private final Map<String, String> orgs;
    private final int pollMs;
    private final ArrayDeque<Pending> buffer = new ArrayDeque<>();
    /** Reads on from where the last reading stopped, not from the segment's start. */
    private final EventReader.Tail tail;
    private final int bufferTarget;
    private final Object signal = new Object();
    private volatile boolean stopping;
    private Thread thread;
    private ConsentGate consent = ConsentGate.ALL;
    private LongSupplier logEnd = () -> 0;

    /** The last event passed and saved. */
    private volatile long position;
    /** The last event read (selected or not). */
    private long scannedTo;
    /** Retention dead-lettered everything up to here: skipped. */
    private final AtomicLong floor = new AtomicLong();
    private volatile long oldestPendingMillis;

    final AtomicLong delivered = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong consentSkipped = new AtomicLong();
    final AtomicLong retentionDropped = new AtomicLong();

    Forwarder(DestinationConfig config, HttpDestination sender, Path dataDir, Map<String, Set<String>> routes,
              Map<String, String> orgs, int pollMs) throws IOException {
        this.config = config;
        this.sender = sender;
        this.dataDir = dataDir;
        this.positionFile = PositionFile.of(dataDir, config.id());
        this.tail = new EventReader.Tail(dataDir);
        this.routes = Map.copyOf(routes);
        this.orgs = Map.copyOf(orgs);
        this.pollMs = pollMs;
        this.bufferTarget = Math.max(1000, config.batch().maxEvents() * 10);
        this.position = PositionFile.read(positionFile);
        this.scannedTo = position;
    }

    public String id() {
        return config.id();
    }

    public long position() {
        return position;
    }

    /** Events in the log after the position. */
    public long lagEvents() {
        return Math.max(0, logEnd.getAsLong() - position);
    }

    /** How long ago the oldest event not yet passed was received; 0 when caught up. */
    public double lagSeconds() {
        long oldest = oldestPendingMillis;
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    }

    void start(ConsentGate gate, LongSupplier end) {
        this.consent = gate;
        this.logEnd = end;
        thread = new Thread(this::run, "forward-" + config.id());
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops the thread (a batch in flight is abandoned: sent again after the restart). */
    void stop(long millis) {
        requestStop();
        if (thread != null) {
            try {
                // Interrupted only if it does not stop by itself: an interrupt also closes a file being written.
                thread.join(Math.max(1, Math.min(millis, 500)));
                thread.interrupt();
                thread.join(Math.max(1, millis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    void requestStop() {
        stopping = true;
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** True when {@code event} goes to this destination. */
    boolean selects(StoredEvent event) {
        Set<String> types = routes.get(event.datastreamId());
        if (types == null) {
            return false;
        }
        return types.isEmpty() || types.contains(eventType(event));
    }

    private void run() {
        log.info("forwarding to '{}' from event {} on", config.id(), position + 1);
        while (!stopping) {
            try {
                step();
            } catch (InterruptedException e) {
                if (stopping) {
                    return;
                }
            } catch (IOException | RuntimeException e) {
                if (stopping) {
                    return; // an interrupt to stop closes a file being read or written
                }
                log.warn("forwarding to '{}': {}; trying again in 1 s", config.id(), e.toString());
                try {
                    pause(1000);
                } catch (InterruptedException stopped) {
                    return;
                }
            }
        }
    }

    private void step() throws IOException, InterruptedException {
        applyFloor();
        boolean atEnd = true;
        if (buffer.size() < config.batch().maxEvents()) {
            atEnd = fill();
        }
        if (buffer.isEmpty()) {
            oldestPendingMillis = 0;
            if (scannedTo > position) {
                save(scannedTo); // only events of other datastreams or types since: passed
            }
            pause(pollMs);
            return;
        }
        Pending first = buffer.peekFirst();
        oldestPendingMillis = first.event().receivedAtMillis();
        if (buffer.size() < config.batch().maxEvents() && atEnd) {
            long wait = first.event().receivedAtMillis() + config.batch().maxDelayMs() - System.currentTimeMillis();
            if (wait > 0) {
                pause(Math.min(wait, pollMs)); // a fuller batch may come
                return;
            }
        }
        List<Pending> batch = new ArrayList<>();
        for (Pending p : buffer) {
            if (batch.size() == config.batch().maxEvents()) {
                break;
            }
            batch.add(p);
        }
        if (!deliver(batch)) {
            return; // stopping: the batch is sent again after the restart
        }
        for (int i = 0; i < batch.size(); i++) {
            buffer.pollFirst();
        }
        save(buffer.isEmpty() ? scannedTo : batch.get(batch.size() - 1).seq());
    }

    /** Reads the log after what was read; true when it reached the log's end. */
    private boolean fill() throws IOException {
        int[] visited = {0};
        long last = tail.next(scannedTo, (seq, event) -> {
            scannedTo = seq;
            Pending selected = pending(seq, event);
            if (selected != null) {
                buffer.addLast(selected);
            }
            return buffer.size() < bufferTarget && ++visited[0] < MAX_VISITED_PER_SCAN;
        });
        return last >= 0;
    }

    /** Skips what retention dead-lettered on this destination's behalf. */
    private void applyFloor() throws IOException {
        long f = floor.get();
        if (f > position) {
            while (!buffer.isEmpty() && buffer.peekFirst().seq() <= f) {
                buffer.pollFirst();
            }
            scannedTo = Math.max(scannedTo, f);
            save(buffer.isEmpty() ? scannedTo : Math.max(position, f));
        }
    }

    /**
     * Sends a batch read from elsewhere than the embedded log (a Kafka topic: {@code seq} is the
     * record's offset) until it is delivered or dead-lettered (true), or the forwarder stops (false).
     */
    boolean deliverFromKafka(List<Pending> batch) throws IOException, InterruptedException {
        return deliver(batch, false);
    }

    private boolean deliver(List<Pending> batch) throws IOException, InterruptedException {
        return deliver(batch, true);
    }

    /** Sends a batch until it is delivered or dead-lettered (true), or the forwarder stops (false). */
    private boolean deliver(List<Pending> batch, boolean fromLog) throws IOException, InterruptedException {
        var retry = config.retry();
        List<Pending> sent = null;
        byte[] body = null;
        List<String> ids = null;
        for (int attempts = 1; ; attempts++) {
            if (stopping) {
                return false;
            }
            if (fromLog && floor.get() >= batch.get(batch.size() - 1).seq()) {
                return true; // retention deleted these events and made them dead letters meanwhile
            }
            if (fromLog) {
                // A privacy job may have deleted some since they were read: those are never sent.
                batch = withoutDeleted(batch);
                if (batch.isEmpty()) {
                    return true;
                }
            }
            // Consent is read again before every attempt: an opt-out while a destination is down stops the events.
            // Events retention already made dead letters are not sent as well.
            List<Pending> allowed = allowed(batch, fromLog ? floor.get() : Long.MIN_VALUE);
            if (allowed.isEmpty()) {
                consentSkipped.addAndGet(batch.size());
                return true;
            }
            if (!allowed.equals(sent)) {
                sent = allowed;
                ids = new ArrayList<>(allowed.size());
                List<StoredEvent> events = new ArrayList<>(allowed.size());
                for (Pending p : allowed) {
                    events.add(p.event());
                    ids.add(p.event().eventId());
                }
                body = HttpDestination.bodyOf(events);
            }
            HttpDestination.Outcome outcome = sender.send(body, ids);
            if (outcome.kind() != HttpDestination.Kind.RETRY || attempts >= retry.maxAttempts()) {
                consentSkipped.addAndGet(batch.size() - sent.size());
            }
            switch (outcome.kind()) {
                case DELIVERED -> {
                    delivered.addAndGet(sent.size());
                    return true;
                }
                case REJECTED -> {
                    return rejected(sent, outcome, attempts, fromLog);
                }
                case RETRY -> {
                    if (gaveUp(sent, outcome, attempts)) {
                        return true;
                    }
                }
                default -> throw new IllegalStateException(outcome.kind().name());
            }
        }
    }

    /** A 4xx other than 408/429: each event of a batch is tried alone, so only those refused become dead letters. */
    private boolean rejected(List<Pending> sent, HttpDestination.Outcome outcome, int attempts, boolean fromLog)
            throws IOException, InterruptedException {
        if (sent.size() > 1) {
            for (Pending p : sent) {
                if (!deliver(List.of(p), fromLog)) {
                    return false;
                }
            }
            return true;
        }
        deadLetter(sent, "rejected", outcome, attempts);
        return true;
    }

    /** After a retriable failure: dead-letters the batch past its limits (true), or waits out the backoff (false). */
    private boolean gaveUp(List<Pending> sent, HttpDestination.Outcome outcome, int attempts)
            throws IOException, InterruptedException {
        var retry = config.retry();
        if (attempts >= retry.maxAttempts()) {
            deadLetter(sent, "maxAttempts", outcome, attempts);
            return true;
        }
        long age = System.currentTimeMillis() - sent.get(0).event().receivedAtMillis();
        if (age > retry.maxAgeHours() * 3_600_000L) {
            deadLetter(sent, "maxAgeHours", outcome, attempts);
            return true;
        }
        retried.incrementAndGet();
        long wait = backoffMillis(attempts, retry.initialBackoffMs(), retry.maxBackoffMs());
        if (outcome.retryAfter() != null) {
            wait = Math.max(wait, outcome.retryAfter().toMillis());
        }
        if (attempts == 1 || attempts % 5 == 0) {
            log.warn("forwarding to '{}': {} for {} events (attempt {} of {}); trying again in {} ms",
                    config.id(), outcome.error(), sent.size(), attempts, retry.maxAttempts(), wait);
        }
        pause(wait);
        return false;
    }

    /** The events of {@code batch} no privacy job has deleted (the same list when none is). */
    private List<Pending> withoutDeleted(List<Pending> batch) throws IOException {
        List<Pending> kept = null;
        for (int i = 0; i < batch.size(); i++) {
            if (tail.deleted(batch.get(i).seq())) {
                if (kept == null) {
                    kept = new ArrayList<>(batch.subList(0, i));
                }
            } else if (kept != null) {
                kept.add(batch.get(i));
            }
        }
        return kept == null ? batch : kept;
    }

    /** The events of {@code batch} whose visitor's consent lets them go now. */
    private List<Pending> allowed(List<Pending> batch, long droppedThrough) {
        List<Pending> allowed = new ArrayList<>(batch.size());
        Map<String, Boolean> decided = new HashMap<>();
        for (Pending p : batch) {
            if (p.seq() <= droppedThrough) {
                continue;
            }
            boolean forwards = p.ecid() == null || decided.computeIfAbsent(p.orgId() + '\n' + p.ecid(),
                    k -> consent.forwards(p.orgId(), p.ecid()));
            if (forwards) {
                allowed.add(p);
            }
        }
        return allowed;
    }

    /** Doubling from {@code initial} up to {@code max}, drawn at random in the upper half so retries of many edges spread. */
    static long backoffMillis(int attempts, long initial, long max) {
        long bound = initial << Math.min(attempts - 1, 30);
        bound = Math.min(max, bound < 0 ? max : bound);
        return bound / 2 + ThreadLocalRandom.current().nextLong(bound / 2 + 1);
    }

    private void deadLetter(List<Pending> batch, String reason, HttpDestination.Outcome outcome, int attempts)
            throws IOException {
        long now = System.currentTimeMillis();
        List<DeadLetter> letters = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            letters.add(new DeadLetter(config.id(), reason, outcome.status(), outcome.error(), attempts, now,
                    p.seq(), EventRecords.toBytes(p.event())));
        }
        DeadLetterStore.append(dataDir, letters);
        deadLettered.addAndGet(batch.size());
        log.warn("forwarding to '{}': {} events are dead letters ({}, {}, {} attempts); see 'xdm-edge destinations dead-letters list'",
                config.id(), batch.size(), reason, outcome.error(), attempts);
    }

    /**
     * Retention is about to delete events {@code fromSeq..toSeq} this destination has not passed:
     * the selected ones become dead letters, and the forwarder goes on after them.
     */
    void dropping(long fromSeq, long toSeq) throws IOException {
        if (position >= toSeq || floor.get() >= toSeq) {
            return;
        }
        long after = Math.max(fromSeq - 1, position);
        List<DeadLetter> letters = new ArrayList<>();
        long now = System.currentTimeMillis();
        EventReader.forEachAfter(dataDir, after, (seq, event) -> {
            if (seq > toSeq) {
                return false;
            }
            if (selects(event)) {
                letters.add(new DeadLetter(config.id(), "retention", 0, "deleted by retention before it was sent", 0,
                        now, seq, EventRecords.toBytes(event)));
            }
            return true;
        });
        DeadLetterStore.append(dataDir, letters);
        deadLettered.addAndGet(letters.size());
        retentionDropped.addAndGet(letters.size());
        floor.accumulateAndGet(toSeq, Math::max);
        synchronized (signal) {
            signal.notifyAll();
        }
        log.warn("forwarding to '{}': retention deletes events {} to {} before they were sent (the log passed forwarding.maxLagBytes); {} of them are dead letters",
                config.id(), fromSeq, toSeq, letters.size());
    }

    private void save(long seq) throws IOException {
        PositionFile.write(positionFile, seq);
        position = seq;
    }

    private void pause(long millis) throws InterruptedException {
        synchronized (signal) {
            if (!stopping) {
                signal.wait(Math.max(1, millis));
            }
        }
        if (stopping) {
            throw new InterruptedException("stopping");
        }
    }

    /** {@code event} as a pending event of this destination at {@code seq}, or null when it is not selected. */
    Pending pending(long seq, StoredEvent event) {
        Set<String> types = routes.get(event.datastreamId());
        if (types == null) {
            return null;
        }
        boolean ecidIsPrimary = "ECID".equals(event.primaryNamespace());
        if (types.isEmpty() && ecidIsPrimary) {
            return new Pending(seq, event, orgs.get(event.datastreamId()), event.primaryId());
        }
        EventFields fields = EventFields.of(event.eventJson(), !types.isEmpty(), !ecidIsPrimary);
        if (types.isEmpty() || types.contains(fields.eventType())) {
            return new Pending(seq, event, orgs.get(event.datastreamId()),
                    ecidIsPrimary ? event.primaryId() : fields.firstEcid());
        }
        return null;
    }

    boolean stopping() {
        return stopping;
    }

    static String eventType(StoredEvent event) {
        return EventFields.of(event.eventJson(), true, false).eventType();
    }
}
