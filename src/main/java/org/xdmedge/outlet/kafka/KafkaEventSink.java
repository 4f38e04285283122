package org.xdmedge.outlet.kafka;

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
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.outlet.OutcomeUnknownException;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.protocol.EdgeJson;

/**
 * The Kafka outlet of one dataset: transactional, idempotent producers ({@code acks=all}), each driven
 * by its own sender thread, behind one bounded queue. A sender takes up to {@code maxRequestsPerTransaction}
 * queued requests, sends all their events in one transaction and completes them only after
 * {@code commitTransaction} returned, so a {@code read_committed} consumer sees a request whole or
 * not at all, and an acknowledgement means Kafka has it on every in-sync replica.
 *
 * <p>Trouble: a failed transaction is aborted (or the producer replaced) and its requests fail with
 * {@link SinkUnavailableException}; a commit whose outcome cannot be learned fails with
 * {@link OutcomeUnknownException}. While the cluster is unreachable, {@link #ready()} is false,
 * new writes are refused at once, and the sender probes the cluster until it answers again, then
 * starts a fresh producer.
 *
 * <p>As a {@link DedupingSink.Settler} it settles claims that another node (or this one) left
 * open: it fences the writer's transactional ids ({@code initTransactions} aborts an open
 * transaction and fails the old producer's next call), then reads the topics
 * {@code read_committed} from the claims' time for the events' ids (record headers
 * {@code datastreamId} and {@code eventId}). A write whose producer was fenced can still land only
 * through a newer producer of its node, so a producer never publishes events received more than
 * {@link #CLAIM_HORIZON_MILLIS} before it started.
 */
public final class KafkaEventSink implements EventSink, DedupingSink.Settler {
    private static final Logger log = LoggerFactory.getLogger(KafkaEventSink.class);
    private static final long PROBE_INTERVAL_MILLIS = 1000;
    /** Settling waits for claims this old (less the clock skew between nodes), see {@link DedupingSink.Settler}. */
    static final long CLAIM_HORIZON_MILLIS = DedupingSink.Settler.SETTLE_AFTER_MILLIS - DedupingSink.Settler.CLOCK_SKEW_MILLIS;
    private static final String TAG_PREFIX = "kafka:";

    /** Everything one outlet needs; {@code producer} holds the user's extra producer settings. */
    public record Settings(String dataset, String bootstrapServers, String topicTemplate, Map<String, Object> producer,
                           String transactionalId, int senders, int queueCapacity, int maxRequestsPerTransaction,
                           long maxQueueWaitMillis, int retryAfterSeconds) {}

    private record PendingWrite(List<StoredEvent> events, CompletableFuture<WriteResult> done, long queuedAtNanos) {}

    private record SettleRequest(String writerTag, long sinceMillis, List<StoredEvent> events, boolean writerEnded,
                                 CompletableFuture<Set<String>> found) {}

    private final Settings settings;
    private final Map<String, Object> producerConfig;
    private final BlockingQueue<PendingWrite> queue;
    private final List<Sender> senders = new ArrayList<>();
    private final Admin admin;
    private final Map<String, Object> clientSecurity = new HashMap<>();
    private final BlockingQueue<SettleRequest> settles = new ArrayBlockingQueue<>(4096);
    private final Thread settler;
    private final long commitRetryMillis;
    private volatile boolean accepting = true;
    private volatile boolean healthy = false;
    /** Raised to have every sender register its transactional id anew (see {@link #fence}). */
    private final AtomicLong registrationsWanted = new AtomicLong();
    private final AtomicLong publishedEvents = new AtomicLong();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong failedTransactions = new AtomicLong();

    public KafkaEventSink(Settings settings) {
        this.settings = settings;
        this.producerConfig = producerConfig(settings);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        // Refuse to start on settings Kafka rejects (the producer validates them without connecting).
        newProducer(settings.transactionalId() + "-check").close(Duration.ZERO);
        long maxBlock = longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG);
        long delivery = longSetting(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
        this.commitRetryMillis = delivery + 2 * maxBlock;
        for (String key : List.of("security.protocol", "ssl.truststore.location", "ssl.truststore.password",
                "ssl.truststore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
                "ssl.keystore.type", "sasl.mechanism", "sasl.jaas.config", "client.dns.lookup")) {
            if (producerConfig.containsKey(key)) {
                clientSecurity.put(key, producerConfig.get(key));
            }
        }
        Map<String, Object> adminConfig = new HashMap<>(clientSecurity);
        adminConfig.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        adminConfig.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(maxBlock, Integer.MAX_VALUE));
        adminConfig.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(maxBlock, Integer.MAX_VALUE));
        adminConfig.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        adminConfig.put(AdminClientConfig.CLIENT_ID_CONFIG, settings.transactionalId() + "-probe");
        this.admin = Admin.create(adminConfig);
        for (int i = 0; i < settings.senders(); i++) {
            senders.add(new Sender(i));
        }
        senders.forEach(Sender::start);
        settler = new Thread(this::settleLoop, "kafka-settle-" + settings.dataset());
        settler.setDaemon(true);
        settler.start();
    }

    static Map<String, Object> producerConfig(Settings s) {
        Map<String, Object> c = new HashMap<>();
        // Defaults that keep a client's wait bounded when the cluster is slow or gone.
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
        // Every transaction ends in a flush, so waiting for fuller batches only adds latency.
        c.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        c.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000");
        c.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        for (Map.Entry<String, Object> e : s.producer().entrySet()) {
            c.put(e.getKey(), String.valueOf(e.getValue()));
        }
        // The guarantees of the outlet; the config check refuses attempts to change them.
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers());
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        return c;
    }

    private long longSetting(String key) {
        return Long.parseLong(String.valueOf(producerConfig.get(key)));
    }

    private Producer<byte[], byte[]> newProducer(String transactionalId) {
        return newProducer(transactionalId, transactionalId);
    }

    private Producer<byte[], byte[]> newProducer(String transactionalId, String clientId) {
        Map<String, Object> c = new HashMap<>(producerConfig);
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        c.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        return new KafkaProducer<>(c, new ByteArraySerializer(), new ByteArraySerializer());
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
        if (!accepting || !settles.offer(request)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the Kafka outlet cannot settle now", settings.retryAfterSeconds()));
        }
        return request.found();
    }

    /**
     * One thread settles: requests that queued up meanwhile share one fence of their writer and one
     * read of each topic (a dead node leaves many retries behind).
     */
    private void settleLoop() {
        while (accepting) {
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
            byWriter.forEach((tag, requests) -> {
                try {
                    fence(tag, requests.stream().allMatch(SettleRequest::writerEnded));
                    long since = requests.stream().mapToLong(SettleRequest::sinceMillis).min().orElseThrow();
                    Map<String, Set<String>> wantedByTopic = new HashMap<>();
                    for (SettleRequest r : requests) {
                        for (StoredEvent e : r.events()) {
                            wantedByTopic.computeIfAbsent(topicFor(e), t -> new HashSet<>()).add(e.datastreamId() + ":" + e.eventId());
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
            });
        }
        List<SettleRequest> left = new ArrayList<>();
        settles.drainTo(left);
        left.forEach(r -> r.found().completeExceptionally(new SinkUnavailableException("the Kafka outlet stopped", settings.retryAfterSeconds())));
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
            awaitRegistration(writerEnded ? 0 : registrationsWanted.incrementAndGet());
            first = senders.size();
        }
        for (int i = first; i < senderCount; i++) {
            String transactionalId = parts[2] + "-" + i;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(commitRetryMillis);
            Producer<byte[], byte[]> fencer = newProducer(transactionalId, transactionalId + "-settle");
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
        log.info("Kafka outlet for dataset {} fenced the {} producers of {} to settle their open claims", settings.dataset(), senderCount, parts[2]);
    }

    /** Waits until every sender registered its transactional id at or after request {@code wanted}. */
    private void awaitRegistration(long wanted) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * commitRetryMillis);
        while (!senders.stream().allMatch(s -> s.registration >= wanted)) {
            if (!accepting || System.nanoTime() > deadline) {
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
        Map<String, Object> c = new HashMap<>(clientSecurity);
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.transactionalId() + "-settle");
        Duration wait = Duration.ofMillis(Math.max(1000, longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG)));
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
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    public String topicFor(StoredEvent e) {
        return settings.topicTemplate().replace("{dataset}", e.dataset()).replace("{datastreamId}", e.datastreamId());
    }

    @Override
    public CompletionStage<WriteResult> write(List<StoredEvent> events) {
        if (!accepting) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the Kafka outlet is shutting down", settings.retryAfterSeconds()));
        }
        if (!healthy) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("Kafka is unreachable", settings.retryAfterSeconds()));
        }
        PendingWrite pending = new PendingWrite(events, new CompletableFuture<>(), System.nanoTime());
        if (!queue.offer(pending)) {
            return CompletableFuture.failedFuture(new SinkUnavailableException("the Kafka outlet's queue is full", settings.retryAfterSeconds()));
        }
        return pending.done();
    }

    @Override
    public boolean ready() {
        return accepting && healthy && senders.stream().anyMatch(Sender::alive) && queue.remainingCapacity() > 0;
    }

    public int queueDepth() {
        return queue.size();
    }

    public long publishedEvents() {
        return publishedEvents.get();
    }

    public long transactions() {
        return transactions.get();
    }

    public long failedTransactions() {
        return failedTransactions.get();
    }

    /**
     * One sender thread with its own transactional producer ({@code transactional.id} =
     * {@code <outlet id>-<index>}). Several senders take groups from the shared queue in parallel, so
     * one transaction's round trips do not hold up the next group.
     */
    private final class Sender {
        private final String transactionalId;
        private final Thread thread;
        private Producer<byte[], byte[]> producer;
        private boolean reportedUnreachable;
        private long lastContactNanos;
        /** Wall-clock time the producer's transactional id was last registered. */
        private long startedAtMillis;
        /** The value of {@code registrationsWanted} when the transactional id was last registered; -1 before. */
        private volatile long registration = -1;

        Sender(int index) {
            this.transactionalId = settings.transactionalId() + "-" + index;
            this.thread = new Thread(this::sendLoop, "kafka-sender-" + settings.dataset() + "-" + index);
        }

        void start() {
            thread.start();
        }

        boolean alive() {
            return thread.isAlive();
        }

        private void sendLoop() {
            List<PendingWrite> group = new ArrayList<>(settings.maxRequestsPerTransaction());
            boolean initialized = false;
            while (accepting || !queue.isEmpty()) {
                try {
                    if (initialized && registration < registrationsWanted.get()) {
                        // A settle of this outlet's own claims: registering anew ends every transaction begun before.
                        discardProducer();
                        initialized = false;
                    }
                    if (!initialized) {
                        initialized = initProducer();
                        if (!initialized) {
                            failQueued("Kafka is unreachable");
                            if (accepting) {
                                Thread.sleep(PROBE_INTERVAL_MILLIS);
                            } else {
                                break;
                            }
                            continue;
                        }
                    }
                    PendingWrite first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        if (System.nanoTime() - lastContactNanos > TimeUnit.MILLISECONDS.toNanos(PROBE_INTERVAL_MILLIS)) {
                            probe();
                        }
                        continue;
                    }
                    group.add(first);
                    queue.drainTo(group, settings.maxRequestsPerTransaction() - 1);
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
                    producer = newProducer(transactionalId);
                }
                long wanted = registrationsWanted.get();
                producer.initTransactions();
                startedAtMillis = System.currentTimeMillis();
                registration = wanted;
                healthy = true;
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
                healthy = false;
                return false;
            } catch (KafkaException e) {
                log.warn("Kafka outlet for dataset {} could not start its producer: {}", settings.dataset(), e.getMessage());
                healthy = false;
                discardProducer();
                return false;
            }
        }

        /** While idle, asks the cluster for its nodes so that /ready reflects a cluster that went away. */
        private void probe() {
            try {
                admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) Math.min(longSetting(ProducerConfig.MAX_BLOCK_MS_CONFIG), 5000)))
                        .nodes().get();
                healthy = true;
            } catch (Exception e) {
                if (healthy) {
                    log.warn("Kafka outlet for dataset {}: cluster not answering: {}", settings.dataset(), e.getMessage());
                }
                healthy = false;
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
                healthy = true;
                transactions.incrementAndGet();
                publishedEvents.addAndGet(events);
                for (PendingWrite pending : group) {
                    pending.done().complete(new WriteResult(pending.events().size(), 0));
                }
                return true;
            } catch (ProducerFencedException | OutOfOrderSequenceException | InvalidProducerEpochException
                     | AuthorizationException | AuthenticationException | UnsupportedVersionException e) {
                // Fatal for this producer: only a new one can go on.
                failedTransactions.incrementAndGet();
                healthy = false;
                log.warn("requestIds={} Kafka producer for dataset {} failed fatally ({}); starting a new one", requestIds(group), settings.dataset(), e.toString());
                fail(group, committing
                        ? new OutcomeUnknownException("the Kafka commit ended in " + e.getClass().getSimpleName(), settings.retryAfterSeconds(), e)
                        : new SinkUnavailableException("Kafka refused the write: " + e.getMessage(), settings.retryAfterSeconds(), e));
                discardProducer();
                return false;
            } catch (CommitOutcomeUnknown e) {
                failedTransactions.incrementAndGet();
                healthy = false;
                log.warn("requestIds={} Kafka commit for dataset {} did not finish within {} ms; outcome unknown", requestIds(group), settings.dataset(), commitRetryMillis);
                fail(group, new OutcomeUnknownException("the Kafka commit did not finish", settings.retryAfterSeconds(), e.getCause()));
                discardProducer();
                return false;
            } catch (KafkaException e) {
                // Abortable: nothing of this transaction was committed.
                failedTransactions.incrementAndGet();
                healthy = false;
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
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(commitRetryMillis);
            while (true) {
                try {
                    producer.commitTransaction();
                    return;
                } catch (TimeoutException e) {
                    if (System.nanoTime() > deadline) {
                        throw new CommitOutcomeUnknown(e);
                    }
                    healthy = false;
                    log.debug("commit timed out, retrying: {}", e.getMessage());
                }
            }
        }

        private ProducerRecord<byte[], byte[]> record(StoredEvent e) {
            byte[] key = e.primaryId() == null ? null : e.primaryId().getBytes(StandardCharsets.UTF_8);
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topicFor(e), null, key, EventRecords.toBytes(e));
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
    }

    private void failQueued(String why) {
        List<PendingWrite> left = new ArrayList<>();
        queue.drainTo(left);
        fail(left, new SinkUnavailableException(why, settings.retryAfterSeconds()));
    }

    private static void fail(List<PendingWrite> group, Throwable cause) {
        for (PendingWrite pending : group) {
            pending.done().completeExceptionally(cause);
        }
    }

    /** Stops taking writes, sends what was accepted (bounded by the producer's timeouts), closes. */
    @Override
    public void close() {
        accepting = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(commitRetryMillis + 10_000);
        for (Sender sender : senders) {
            try {
                sender.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (sender.thread.isAlive()) {
                sender.thread.interrupt();
            }
        }
        settler.interrupt();
        admin.close(Duration.ofSeconds(2));
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
