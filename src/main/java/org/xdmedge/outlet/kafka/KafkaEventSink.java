package org.xdmedge.outlet.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.outlet.OutcomeUnknownException;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.outlet.kafka.KafkaOutletContext.PendingWrite;

/**
 * The Kafka outlet of one dataset: transactional, idempotent producers ({@code acks=all}), each driven
 * by its own sender thread ({@link KafkaSender}), behind one bounded queue. A sender takes up to
 * {@code maxRequestsPerTransaction} queued requests, sends all their events in one transaction and
 * completes them only after {@code commitTransaction} returned, so a {@code read_committed} consumer
 * sees a request whole or not at all, and an acknowledgement means Kafka has it on every in-sync
 * replica.
 *
 * <p>Trouble: a failed transaction is aborted (or the producer replaced) and its requests fail with
 * {@link SinkUnavailableException}; a commit whose outcome cannot be learned fails with
 * {@link OutcomeUnknownException}. While the cluster is unreachable, {@link #ready()} is false,
 * new writes are refused at once, and the senders probe the cluster until it answers again, then
 * start fresh producers.
 *
 * <p>As a {@link DedupingSink.Settler} it hands claims left open to its {@link KafkaLogSettler},
 * which fences the writer and reads the topics for the claimed events. A write whose producer was
 * fenced can still land only through a newer producer of its node, so a producer never publishes
 * events received more than {@code KafkaSender.CLAIM_HORIZON_MILLIS} before it started.
 *
 * <p>This class is the wiring and the front door: it builds the shared {@link KafkaOutletContext},
 * the admin client the senders probe with, the senders and the settler; it queues writes, answers
 * readiness and metrics, and closes. Invariant: a write is either refused at once or queued; the
 * senders complete what is queued, and fail what is left when they stop.
 *
 * <p>Threads: {@link #write}, {@link #ready} and the metrics run on the caller's thread (the event
 * loop) and never block; they read the context's volatile flags and the queue, which the sender
 * threads drain. {@link #close} blocks until the senders have finished, bounded by the commit
 * timeouts.
 */
public final class KafkaEventSink implements EventSink, DedupingSink.Settler {
    /** Everything one outlet needs; {@code producer} holds the user's extra producer settings. */
    public record Settings(String dataset, String bootstrapServers, String topicTemplate, Map<String, Object> producer,
                           String transactionalId, int senders, int queueCapacity, int maxRequestsPerTransaction,
                           long maxQueueWaitMillis, int retryAfterSeconds) {}

    private final KafkaOutletContext ctx;
    private final Settings settings;
    private final List<KafkaSender> senders = new ArrayList<>();
    private final Admin admin;
    private final KafkaLogSettler settler;

    public KafkaEventSink(Settings settings) {
        this.ctx = new KafkaOutletContext(settings);
        this.settings = settings;
        this.admin = Admin.create(adminConfig(ctx));
        for (int i = 0; i < settings.senders(); i++) {
            senders.add(new KafkaSender(ctx, admin, i));
        }
        senders.forEach(KafkaSender::start);
        settler = new KafkaLogSettler(ctx, senders);
        settler.start();
    }

    private static Map<String, Object> adminConfig(KafkaOutletContext ctx) {
        long maxBlock = ctx.longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG);
        Map<String, Object> adminConfig = new HashMap<>(ctx.clientSecurity);
        adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, ctx.settings.bootstrapServers());
        adminConfig.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(maxBlock, Integer.MAX_VALUE));
        adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(maxBlock, Integer.MAX_VALUE));
        adminConfig.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        adminConfig.put(AdminClientConfig.CLIENT_ID_CONFIG, ctx.settings.transactionalId() + "-probe");
        return adminConfig;
    }

    @Override
    public String writerTag() {
        return settler.writerTag();
    }

    @Override
    public boolean canSettle(String writerTag) {
        return settler.canSettle(writerTag);
    }

    @Override
    public CompletionStage<Set<String>> settle(String writerTag, long sinceMillis, List<StoredEvent> events, boolean writerEnded) {
        return settler.settle(writerTag, sinceMillis, events, writerEnded);
    }

    public String topicFor(StoredEvent e) {
        return ctx.topicFor(e);
    }

    @Override
    public CompletionStage<WriteResult> write(List<StoredEvent> events) {
        if (!ctx.accepting) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the Kafka outlet is shutting down", settings.retryAfterSeconds()));
        }
        if (!ctx.healthy) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("Kafka is unreachable", settings.retryAfterSeconds()));
        }
        PendingWrite pending = new PendingWrite(events, new CompletableFuture<>(), System.nanoTime());
        if (!ctx.queue.offer(pending)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the Kafka outlet's queue is full", settings.retryAfterSeconds()));
        }
        return pending.done();
    }

    @Override
    public boolean ready() {
        return ctx.accepting && ctx.healthy && senders.stream().anyMatch(KafkaSender::alive) && ctx.queue.remainingCapacity() > 0;
    }

    public int queueDepth() {
        return ctx.queue.size();
    }

    public long publishedEvents() {
        return ctx.publishedEvents.get();
    }

    public long transactions() {
        return ctx.transactions.get();
    }

    public long failedTransactions() {
        return ctx.failedTransactions.get();
    }

    /** Stops taking writes, sends what was accepted (bounded by the producer's timeouts), closes. */
    @Override
    public void close() {
        ctx.accepting = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ctx.commitRetryMillis + 10_000);
        for (KafkaSender sender : senders) {
            sender.awaitStop(deadline);
        }
        settler.stop();
        admin.close(Duration.ofSeconds(2));
    }
}
