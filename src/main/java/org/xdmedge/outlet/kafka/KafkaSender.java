package org.xdmedge.outlet.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.slf4j.Logger;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.OutcomeUnknownException;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.outlet.kafka.KafkaOutletContext.PendingWrite;

/**
 * One sender of a Kafka outlet: a thread with its own transactional producer
 * ({@code transactional.id} = {@code <outlet id>-<index>}) that takes up to
 * {@code maxRequestsPerTransaction} writes from the outlet's shared queue, sends all their events in
 * one transaction and completes them only after {@code commitTransaction} returned. Several senders
 * take groups in parallel, so one transaction's round trips do not hold up the next group.
 *
 * <p>Invariants: a write completes successfully only once its transaction committed; a commit whose
 * outcome cannot be learned fails its writes with {@link OutcomeUnknownException}, any other failure
 * with {@link SinkUnavailableException}. The producer never publishes an event received more than
 * {@link #CLAIM_HORIZON_MILLIS} before its transactional id was last registered, because a settler
 * may have fenced the former producer and read the log for that event meanwhile.
 *
 * <p>Threads: the producer, {@code lastContactNanos}, {@code startedAtMillis} and
 * {@code reportedUnreachable} belong to the sender's own thread. {@code registration} is volatile
 * because the settle thread waits on it (see {@link KafkaLogSettler}); the sender re-registers
 * between transactions whenever the context's {@code registrationsWanted} has moved past it. While
 * the cluster is unreachable, the sender fails what is queued, sets the context's {@code healthy}
 * to false and retries every {@link #PROBE_INTERVAL_MILLIS}; while idle it probes the cluster at
 * that interval so that readiness follows a cluster that went away.
 */
final class KafkaSender {
    private static final Logger log = KafkaOutletContext.log;
    static final long PROBE_INTERVAL_MILLIS = 1000;
    /** Settling waits for claims this old (less the clock skew between nodes), see {@link DedupingSink.Settler}. */
    static final long CLAIM_HORIZON_MILLIS = DedupingSink.Settler.SETTLE_AFTER_MILLIS - DedupingSink.Settler.CLOCK_SKEW_MILLIS;

    private final KafkaOutletContext ctx;
    private final KafkaEventSink.Settings settings;
    private final Admin admin;
    private final String transactionalId;
    private final Thread thread;
    private Producer<byte[], byte[]> producer;
    private boolean reportedUnreachable;
    private long lastContactNanos;
    /** Wall-clock time the producer's transactional id was last registered. */
    private long startedAtMillis;
    /** The value of {@code registrationsWanted} when the transactional id was last registered; -1 before. */
    private volatile long registration = -1;

    KafkaSender(KafkaOutletContext ctx, Admin admin, int index) {
        this.ctx = ctx;
        this.settings = ctx.settings;
        this.admin = admin;
        this.transactionalId = settings.transactionalId() + "-" + index;
        this.thread = new Thread(this::sendLoop, "kafka-sender-" + settings.dataset() + "-" + index);
    }

    void start() {
        thread.start();
    }

    boolean alive() {
        return thread.isAlive();
    }

    long registration() {
        return registration;
    }

    /** Waits for the thread to end until {@code deadlineNanos}, then interrupts it if it still runs. */
    void awaitStop(long deadlineNanos) {
        try {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
        }
    }

    private void sendLoop() {
        List<PendingWrite> group = new ArrayList<>(settings.maxRequestsPerTransaction());
        boolean initialized = false;
        while (ctx.accepting || !ctx.queue.isEmpty()) {
            try {
                if (initialized && registration < ctx.registrationsWanted.get()) {
                    // A settle of this outlet's own claims: registering anew ends every transaction begun before.
                    discardProducer();
                    initialized = false;
                }
                if (!initialized) {
                    initialized = initProducer();
                    if (!initialized) {
                        failQueued("Kafka is unreachable");
                        if (ctx.accepting) {
                            Thread.sleep(PROBE_INTERVAL_MILLIS);
                        } else {
                            break;
                        }
                        continue;
                    }
                }
                PendingWrite first = ctx.queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (System.nanoTime() - lastContactNanos > TimeUnit.MILLISECONDS.toNanos(PROBE_INTERVAL_MILLIS)) {
                        probe();
                    }
                    continue;
                }
                group.add(first);
                ctx.queue.drainTo(group, settings.maxRequestsPerTransaction() - 1);
                List<PendingWrite> live = dropExpired(group);
                if (!live.isEmpty()) {
                    initialized = sendTransaction(live);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                log.error("requestIds={} Kafka sender failed this group of {} requests", requestIds(group), group.size(), e);
                fail(group, new SinkUnavailableException("the Kafka outlet failed: " + e.getMessage(), settings.retryAfterSeconds(), e));
                discardProducer();
                initialized = false;
            } finally {
                group.clear();
            }
        }
        failQueued("the Kafka outlet stopped");
        discardProducer();
    }

    /** (Re)creates the producer if needed and registers its transactional id; false while Kafka is unreachable. */
    private boolean initProducer() {
        try {
            if (producer == null) {
                producer = ctx.newProducer(transactionalId);
            }
            long wanted = ctx.registrationsWanted.get();
            producer.initTransactions();
            startedAtMillis = System.currentTimeMillis();
            registration = wanted;
            ctx.healthy = true;
            reportedUnreachable = false;
            lastContactNanos = System.nanoTime();
            log.info("Kafka outlet for dataset {} ready (transactional.id {})", settings.dataset(), transactionalId);
            return true;
        } catch (TimeoutException e) {
            // initTransactions may be called again after a timeout: keep the producer and its connections.
            if (!reportedUnreachable) {
                reportedUnreachable = true;
                log.warn("Kafka outlet for dataset {} cannot reach the cluster: {}", settings.dataset(), e.getMessage());
            }
            ctx.healthy = false;
            return false;
        } catch (KafkaException e) {
            log.warn("Kafka outlet for dataset {} could not start its producer: {}", settings.dataset(), e.getMessage());
            ctx.healthy = false;
            discardProducer();
            return false;
        }
    }

    /** While idle, asks the cluster for its nodes so that /ready reflects a cluster that went away. */
    private void probe() {
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.min(ctx.longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG), 5000)))
                    .nodes().get();
            ctx.healthy = true;
        } catch (Exception e) {
            if (ctx.healthy) {
                log.warn("Kafka outlet for dataset {}: cluster not answering: {}", settings.dataset(), e.getMessage());
            }
            ctx.healthy = false;
        }
        lastContactNanos = System.nanoTime();
    }

    /**
     * Requests that waited longer than their client will wait are failed unsent, and so are
     * requests received well before this producer started: their ids may have been settled
     * from the log meanwhile by a node that fenced the former producer.
     */
    private List<PendingWrite> dropExpired(List<PendingWrite> group) {
        long now = System.nanoTime();
        long receivedBefore = startedAtMillis - CLAIM_HORIZON_MILLIS;
        List<PendingWrite> live = new ArrayList<>(group.size());
        for (PendingWrite p : group) {
            if (now - p.queuedAtNanos() > TimeUnit.MILLISECONDS.toNanos(settings.maxQueueWaitMillis())) {
                p.done().completeExceptionally(new SinkUnavailableException("waited too long for Kafka", settings.retryAfterSeconds()));
            } else if (p.events().stream().anyMatch(e -> e.receivedAtMillis() < receivedBefore)) {
                p.done().completeExceptionally(new SinkUnavailableException(
                        "received before the Kafka producer was restarted", settings.retryAfterSeconds()));
            } else {
                live.add(p);
            }
        }
        return live;
    }

    /** Sends the group as one transaction; returns false if the producer had to be discarded. */
    private boolean sendTransaction(List<PendingWrite> group) {
        boolean committing = false;
        try {
            producer.beginTransaction();
            int events = 0;
            for (PendingWrite pending : group) {
                for (StoredEvent e : pending.events()) {
                    producer.send(record(e));
                    events++;
                }
            }
            committing = true;
            commitWithRetry();
            lastContactNanos = System.nanoTime();
            ctx.healthy = true;
            ctx.transactions.incrementAndGet();
            ctx.publishedEvents.addAndGet(events);
            for (PendingWrite pending : group) {
                pending.done().complete(new WriteResult(pending.events().size(), 0));
            }
            return true;
        } catch (ProducerFencedException | OutOfOrderSequenceException | InvalidProducerEpochException
                 | AuthorizationException | AuthenticationException | UnsupportedVersionException e) {
            // Fatal for this producer: only a new one can go on.
            ctx.failedTransactions.incrementAndGet();
            ctx.healthy = false;
            log.warn("requestIds={} Kafka producer for dataset {} failed fatally ({}); starting a new one", requestIds(group), settings.dataset(), e.toString());
            fail(group, committing
                    ? new OutcomeUnknownException("the Kafka commit ended in " + e.getClass().getSimpleName(), settings.retryAfterSeconds(), e)
                    : new SinkUnavailableException("Kafka refused the write: " + e.getMessage(), settings.retryAfterSeconds(), e));
            discardProducer();
            return false;
        } catch (CommitOutcomeUnknown e) {
            ctx.failedTransactions.incrementAndGet();
            ctx.healthy = false;
            log.warn("requestIds={} Kafka commit for dataset {} did not finish within {} ms; outcome unknown", requestIds(group), settings.dataset(), ctx.commitRetryMillis);
            fail(group, new OutcomeUnknownException("the Kafka commit did not finish", settings.retryAfterSeconds(), e.getCause()));
            discardProducer();
            return false;
        } catch (KafkaException e) {
            // Abortable: nothing of this transaction was committed.
            ctx.failedTransactions.incrementAndGet();
            ctx.healthy = false;
            log.warn("requestIds={} Kafka transaction for dataset {} failed: {}", requestIds(group), settings.dataset(), e.getMessage());
            fail(group, new SinkUnavailableException("Kafka did not take the write: " + e.getMessage(), settings.retryAfterSeconds(), e));
            try {
                producer.abortTransaction();
                return true;
            } catch (KafkaException abortFailed) {
                discardProducer();
                return false;
            }
        }
    }

    /** Thrown when commit retries run out while the commit's outcome is still open. */
    private static final class CommitOutcomeUnknown extends RuntimeException {
        CommitOutcomeUnknown(Throwable cause) {
            super(cause);
        }
    }

    /**
     * {@code commitTransaction} may time out with its outcome open; retrying it is allowed and
     * resolves it (committed, or an abortable error when records could not be delivered).
     */
    private void commitWithRetry() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ctx.commitRetryMillis);
        while (true) {
            try {
                producer.commitTransaction();
                return;
            } catch (TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new CommitOutcomeUnknown(e);
                }
                ctx.healthy = false;
                log.debug("commit timed out, retrying: {}", e.getMessage());
            }
        }
    }

    private ProducerRecord<byte[], byte[]> record(StoredEvent e) {
        byte[] key = e.primaryId() == null ? null : e.primaryId().getBytes(StandardCharsets.UTF_8);
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(ctx.topicFor(e), null, key, EventRecords.toBytes(e));
        r.headers().add(new RecordHeader("requestId", e.requestId().getBytes(StandardCharsets.UTF_8)));
        r.headers().add(new RecordHeader("datastreamId", e.datastreamId().getBytes(StandardCharsets.UTF_8)));
        r.headers().add(new RecordHeader("eventId", e.eventId().getBytes(StandardCharsets.UTF_8)));
        return r;
    }

    private void discardProducer() {
        if (producer != null) {
            try {
                producer.close(Duration.ZERO);
            } catch (RuntimeException e) {
                // discarding anyway
            }
            producer = null;
        }
    }

    private void failQueued(String why) {
        List<PendingWrite> left = new ArrayList<>();
        ctx.queue.drainTo(left);
        fail(left, new SinkUnavailableException(why, settings.retryAfterSeconds()));
    }

    private static void fail(List<PendingWrite> group, Throwable cause) {
        for (PendingWrite pending : group) {
            pending.done().completeExceptionally(cause);
        }
    }

    /** The request ids of a group, for log lines about the whole group (at most 20 listed). */
    private static String requestIds(List<PendingWrite> group) {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < group.size() && i < 20; i++) {
            if (i > 0) {
                ids.append(',');
            }
            List<StoredEvent> events = group.get(i).events();
            ids.append(events.isEmpty() ? "-" : events.get(0).requestId());
        }
        return group.size() > 20 ? ids + ",…" : ids.toString();
    }
}
