package org.xdmedge.outlet.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.protocol.EdgeJson;

/**
 * Settles claims that another node (or this one) left open on a Kafka outlet's topics: it fences the
 * writer's transactional ids ({@code initTransactions} aborts an open transaction and fails the old
 * producer's next call), then reads the topics {@code read_committed} from the claims' time for the
 * events' ids (record headers {@code datastreamId} and {@code eventId}, or else the export line).
 *
 * <p>Invariants: a request completes with the keys found only after every producer of its writer
 * was fenced, so nothing the writer started can land after the answer; the outlet's own
 * transactional ids are never fenced by a second producer (that would fence a live sender
 * mid-transaction), the senders register anew between transactions instead.
 *
 * <p>Threads: {@link #settle} runs on the caller's thread and only enqueues (a full queue or a
 * closing outlet refuses at once). One daemon thread, {@code kafka-settle-<dataset>}, does all
 * the blocking work; requests that queue up meanwhile share one fence per writer and one read per
 * topic, since a dead node leaves many retries behind. To fence this outlet's own ids it raises the
 * context's {@code registrationsWanted} and waits on the senders' volatile {@code registration}.
 */
final class KafkaLogSettler implements DedupingSink.Settler {
    private static final Logger log = KafkaOutletContext.log;
    private static final String TAG_PREFIX = "kafka:";

    private record SettleRequest(String writerTag, long sinceMillis, List<StoredEvent> events, boolean writerEnded,
                                 CompletableFuture<Set<String>> found) {}

    private final KafkaOutletContext ctx;
    private final KafkaEventSink.Settings settings;
    private final List<KafkaSender> senders;
    private final BlockingQueue<SettleRequest> settles = new ArrayBlockingQueue<>(4096);
    private final Thread thread;

    KafkaLogSettler(KafkaOutletContext ctx, List<KafkaSender> senders) {
        this.ctx = ctx;
        this.settings = ctx.settings;
        this.senders = List.copyOf(senders);
        this.thread = new Thread(this::settleLoop, "kafka-settle-" + settings.dataset());
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() {
        thread.interrupt();
    }

    @Override
    public String writerTag() {
        return TAG_PREFIX + settings.senders() + ":" + settings.transactionalId();
    }

    @Override
    public boolean canSettle(String writerTag) {
        return writerTag != null && writerTag.matches("kafka:[0-9]{1,4}:.+");
    }

    @Override
    public CompletionStage<Set<String>> settle(String writerTag, long sinceMillis, List<StoredEvent> events, boolean writerEnded) {
        if (!canSettle(writerTag)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("not a Kafka writer: " + writerTag));
        }
        SettleRequest request = new SettleRequest(writerTag, sinceMillis, List.copyOf(events), writerEnded, new CompletableFuture<>());
        if (!ctx.accepting || !settles.offer(request)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the Kafka outlet cannot settle now", settings.retryAfterSeconds()));
        }
        return request.found();
    }

    /** Takes what queued up, settles it writer by writer; when the outlet closes, fails what is left. */
    private void settleLoop() {
        while (ctx.accepting) {
            List<SettleRequest> batch = new ArrayList<>();
            try {
                SettleRequest first = settles.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                settles.drainTo(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            Map<String, List<SettleRequest>> byWriter = new LinkedHashMap<>();
            batch.forEach(r -> byWriter.computeIfAbsent(r.writerTag(), t -> new ArrayList<>()).add(r));
            byWriter.forEach(this::settleWriter);
        }
        List<SettleRequest> left = new ArrayList<>();
        settles.drainTo(left);
        left.forEach(r -> r.found().completeExceptionally(new SinkUnavailableException("the Kafka outlet stopped", settings.retryAfterSeconds())));
    }

    /** One fence of the writer, one read of each topic from the oldest claim, then each request's share of what was found. */
    private void settleWriter(String tag, List<SettleRequest> requests) {
        try {
            fence(tag, requests.stream().allMatch(SettleRequest::writerEnded));
            long since = requests.stream().mapToLong(SettleRequest::sinceMillis).min().orElseThrow();
            Map<String, Set<String>> wantedByTopic = new HashMap<>();
            for (SettleRequest r : requests) {
                for (StoredEvent e : r.events()) {
                    wantedByTopic.computeIfAbsent(ctx.topicFor(e), t -> new HashSet<>()).add(e.datastreamId() + ":" + e.eventId());
                }
            }
            Set<String> found = new HashSet<>();
            for (Map.Entry<String, Set<String>> t : wantedByTopic.entrySet()) {
                found.addAll(findInTopic(t.getKey(), since, t.getValue()));
            }
            for (SettleRequest r : requests) {
                Set<String> mine = new HashSet<>();
                for (StoredEvent e : r.events()) {
                    String key = e.datastreamId() + ":" + e.eventId();
                    if (found.contains(key)) {
                        mine.add(key);
                    }
                }
                r.found().complete(mine);
            }
        } catch (RuntimeException e) {
            log.warn("Kafka outlet for dataset {} could not settle claims of {}: {}", settings.dataset(), tag, e.toString());
            requests.forEach(r -> r.found().completeExceptionally(e));
        }
    }

    /**
     * Registers each transactional id of the writer anew: the coordinator aborts its open
     * transaction (or finishes one it had begun to commit) before answering, and the old producer
     * can commit nothing more.
     *
     * <p>This outlet's own ids (a single node settling what it left open) are held by its own
     * senders, which another producer would fence mid-transaction: instead each sender registers
     * anew between transactions, or, when the writer was the former process on this data
     * directory, the senders' registration at start did it already.
     */
    private void fence(String writerTag, boolean writerEnded) {
        String[] parts = writerTag.split(":", 3);
        int senderCount = Integer.parseInt(parts[1]);
        int first = 0;
        if (parts[2].equals(settings.transactionalId())) {
            awaitRegistration(writerEnded ? 0 : ctx.registrationsWanted.incrementAndGet());
            first = senders.size();
        }
        for (int i = first; i < senderCount; i++) {
            fenceOne(parts[2] + "-" + i);
        }
        log.info("Kafka outlet for dataset {} fenced the {} producers of {} to settle their open claims", settings.dataset(), senderCount, parts[2]);
    }

    /** Registers {@code transactionalId} with a producer of its own, retrying timeouts for as long as a commit may retry. */
    private void fenceOne(String transactionalId) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ctx.commitRetryMillis);
        Producer<byte[], byte[]> fencer = ctx.newProducer(transactionalId, transactionalId + "-settle");
        try {
            while (true) {
                try {
                    fencer.initTransactions();
                    break;
                } catch (TimeoutException e) {
                    // May be called again: the coordinator may still be writing the abort's markers.
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            }
        } finally {
            fencer.close(Duration.ZERO);
        }
    }

    /** Waits until every sender registered its transactional id at or after request {@code wanted}. */
    private void awaitRegistration(long wanted) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * ctx.commitRetryMillis);
        while (!senders.stream().allMatch(s -> s.registration() >= wanted)) {
            if (!ctx.accepting || System.nanoTime() > deadline) {
                throw new IllegalStateException("the outlet's producers did not register anew");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** The {@code wanted} keys ({@code datastreamId:eventId}) among the committed records of {@code topic} from {@code sinceMillis} on. */
    private Set<String> findInTopic(String topic, long sinceMillis, Set<String> wanted) {
        Map<String, Object> c = new HashMap<>(ctx.clientSecurity);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.transactionalId() + "-settle");
        Duration wait = Duration.ofMillis(Math.max(1000, ctx.longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG)));
        Set<String> found = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, wait);
            if (infos == null || infos.isEmpty()) {
                return found;
            }
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> times = new HashMap<>();
            partitions.forEach(tp -> times.put(tp, Math.max(0, sinceMillis)));
            Map<TopicPartition, OffsetAndTimestamp> from = consumer.offsetsForTimes(times, wait);
            // After the fence nothing of the writer is open: the last stable offsets cover all it committed.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, wait);
            List<TopicPartition> toRead = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp at = from.get(tp);
                if (at != null && at.offset() < end.get(tp)) {
                    consumer.seek(tp, at.offset());
                    toRead.add(tp);
                }
            }
            consumer.assign(toRead);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (toRead.stream().anyMatch(tp -> consumer.position(tp, wait) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to " + end + " within 60 s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    String key = recordKey(r);
                    if (key != null && wanted.contains(key)) {
                        found.add(key);
                    }
                }
            }
        }
        return found;
    }

    /** {@code datastreamId:eventId} of a published record, from its headers or else its export line. */
    private static String recordKey(ConsumerRecord<byte[], byte[]> r) {
        Header datastream = r.headers().lastHeader("datastreamId");
        Header eventId = r.headers().lastHeader("eventId");
        if (datastream != null && eventId != null) {
            return new String(datastream.value(), StandardCharsets.UTF_8) + ":" + new String(eventId.value(), StandardCharsets.UTF_8);
        }
        try {
            var line = EdgeJson.MAPPER.readTree(r.value());
            return line.path("datastreamId").asText() + ":" + line.path("eventId").asText();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
