package org.xdmedge.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.xdmedge.consent.Consent;
import org.xdmedge.outlet.kafka.KafkaEventSink;
import org.xdmedge.quality.DataQuality;
import org.xdmedge.store.log.EventLogStore;

/** Prometheus metrics of the edge, scraped at {@code GET /metrics}. */
public final class EdgeMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
    /** Bounds of the request timers' buckets: enough to read a p99 against a target such as 10 ms. */
    static final Duration[] REQUEST_BUCKETS = millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500);
    /**
     * Bounds of the commit timer's buckets: a healthy disk commits in about a millisecond; the
     * upper buckets count the stalls every connection waiting on that commit waits out too.
     */
    static final Duration[] COMMIT_WRITE_BUCKETS = millis(1, 2, 5, 10, 20, 50, 100, 250, 500, 1000);

    private static Duration[] millis(long... bounds) {
        return Arrays.stream(bounds).mapToObj(Duration::ofMillis).toArray(Duration[]::new);
    }

    public void request(String action, int status, long nanos) {
        String key = action + '|' + status;
        Timer timer = timers.computeIfAbsent(key, k -> Timer.builder("xdmedge.requests")
                .description("Edge requests by action and status, from their headers to their answer")
                .tag("action", action)
                .tag("status", Integer.toString(status))
                .serviceLevelObjectives(REQUEST_BUCKETS)
                .register(registry));
        timer.record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A connection closed by the edge's own bounds: {@code limit} (more open than
     * {@code server.maxConnections}), {@code timeout} (a request not received whole in time),
     * {@code framing} (a body whose chunked framing could not be decoded).
     */
    public void connectionClosed(String reason) {
        Counter.builder("xdmedge.connections.closed")
                .description("Connections the edge closed: over the connection limit, a request not received in time, broken framing")
                .tag("reason", reason)
                .register(registry)
                .increment();
    }

    /** Open HTTP connections, over every listener. */
    public void bindConnections(IntSupplier open) {
        Gauge.builder("xdmedge.connections.open", open, IntSupplier::getAsInt)
                .description("Open HTTP connections").register(registry);
    }

    /** Events acknowledged but not stored because the visitor's consent is out or pending. */
    /** Distinct violated paths counted per datastream; more are counted under the path {@code other}. */
    static final int MAX_VIOLATION_PATHS = 200;
    private final ConcurrentHashMap<String, Counter> qualityCounters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<String>> violationPaths = new ConcurrentHashMap<>();

    /** Counts of the data-quality checks: events valid and invalid (quarantined or rejected), per datastream and violated path. */
    public DataQuality.Observer quality() {
        return new DataQuality.Observer() {
            @Override
            public void checked(String datastreamId, boolean valid) {
                String outcome = valid ? "valid" : "invalid";
                qualityCounters.computeIfAbsent(datastreamId + '|' + outcome, k -> Counter
                        .builder("xdmedge.quality.events")
                        .description("Events checked against their datastream's schema and mapping, by outcome "
                                + "(invalid: quarantined, or refused with invalidEvents: reject)")
                        .tag("datastream", datastreamId).tag("outcome", outcome)
                        .register(registry)).increment();
            }

            @Override
            public void violated(String datastreamId, String path) {
                // Array positions are folded ([0] -> []) and the paths per datastream are bounded: clients choose them.
                String folded = path.replaceAll("\\[[0-9]+]", "[]");
                Set<String> known = violationPaths.computeIfAbsent(datastreamId, k -> ConcurrentHashMap.newKeySet());
                if (!known.contains(folded)) {
                    folded = known.size() < MAX_VIOLATION_PATHS && known.add(folded) ? folded : "other";
                }
                String label = folded;
                qualityCounters.computeIfAbsent(datastreamId + "|path|" + label, k -> Counter
                        .builder("xdmedge.quality.violations")
                        .description("Schema and mapping violations by datastream and field path")
                        .tag("datastream", datastreamId).tag("path", label)
                        .register(registry)).increment();
            }
        };
    }

    public void consentIgnored(String action, Consent consent, int events) {
        Counter.builder("xdmedge.consent.ignored.events")
                .description("Events acknowledged but not stored for lack of consent")
                .tag("action", action)
                .tag("consent", consent.general())
                .register(registry)
                .increment(events);
    }

    /** A counter of activities files refused on reload (the previous activities stay in force). */
    public Runnable personalizationReloadFailures() {
        Counter failures = Counter
                .builder("xdmedge.personalization.reload.failures")
                .description("Changed activities files refused because they did not validate; the previous activities stay in force")
                .register(registry);
        return failures::increment;
    }

    /** The registry, for parts that register their own meters (forwarding). */
    public MeterRegistry registry() {
        return registry;
    }

    public void bindStore(EventLogStore store) {
        Gauge.builder("xdmedge.store.queue.depth", store, EventLogStore::queueDepth)
                .description("Requests waiting for the event writer").register(registry);
        Gauge.builder("xdmedge.store.events.stored", store, EventLogStore::storedEvents)
                .description("Events committed since start").register(registry);
        Gauge.builder("xdmedge.store.events.duplicate", store, EventLogStore::duplicateEvents)
                .description("Retried events already stored, acknowledged without storing").register(registry);
        Gauge.builder("xdmedge.store.disk.free", store, EventLogStore::freeBytes).baseUnit("bytes")
                .description("Usable space on the data directory's disk, read once a second; below storage.minFreeBytes writes are refused")
                .register(registry);
        Gauge.builder("xdmedge.store.commits", store, EventLogStore::commits)
                .description("Group commits since start").register(registry);
        Gauge.builder("xdmedge.store.frames.written", store, EventLogStore::frameBytesWritten).baseUnit("bytes")
                .description("Bytes of event-log frames written since start, packed as storage.compression says").register(registry);
        Gauge.builder("xdmedge.store.frames.plain", store, EventLogStore::frameBytesPlain).baseUnit("bytes")
                .description("Bytes the same frames would have taken plain: frames.written / frames.plain is what packing keeps")
                .register(registry);
        Timer commitWrites = Timer.builder("xdmedge.store.commit.write")
                .description("Writing and forcing each group's frame: the disk's share of a commit (its buckets show the disk's stalls)")
                .serviceLevelObjectives(COMMIT_WRITE_BUCKETS)
                .register(registry);
        store.observeFrameWrites(nanos -> commitWrites.record(nanos, TimeUnit.NANOSECONDS));
        Gauge.builder("xdmedge.store.ids", store, EventLogStore::indexedIds)
                .description("Ids in the event-id index's tables").register(registry);
        Gauge.builder("xdmedge.store.id.tables", store, EventLogStore::idTableBytes).baseUnit("bytes")
                .description("Size of the event-id index's table files; the node wants them all in memory").register(registry);
        Gauge.builder("xdmedge.store.id.table.count", store, EventLogStore::idTables)
                .description("Tables of the event-id index a new id is looked up in: the hot one and the sealed ones").register(registry);
        Gauge.builder("xdmedge.store.id.merges", store, EventLogStore::idMerges)
                .description("Merges of sealed event-id tables since start").register(registry);
        Gauge.builder("xdmedge.store.retention.segments.deleted", store, EventLogStore::segmentsDeleted)
                .description("Event segments retention deleted since start").register(registry);
        Gauge.builder("xdmedge.store.retention.deleted", store, EventLogStore::segmentBytesDeleted).baseUnit("bytes")
                .description("Bytes of event segments retention deleted since start").register(registry);
        Gauge.builder("xdmedge.store.retention.failures", store, EventLogStore::retentionFailures)
                .description("Retention passes that stopped short of their limits (see the log)").register(registry);
        Gauge.builder("xdmedge.store.checkpoints", store, EventLogStore::checkpoints)
                .description("Checkpoints of the event-id index: its tables forced to disk and what they cover recorded").register(registry);
    }

    public void bindKafka(String dataset, KafkaEventSink sink) {
        Gauge.builder("xdmedge.kafka.queue.depth", sink, KafkaEventSink::queueDepth).tag("dataset", dataset)
                .description("Requests waiting for the Kafka sender").register(registry);
        Gauge.builder("xdmedge.kafka.events.published", sink, KafkaEventSink::publishedEvents).tag("dataset", dataset)
                .description("Events in committed Kafka transactions since start").register(registry);
        Gauge.builder("xdmedge.kafka.transactions", sink, KafkaEventSink::transactions).tag("dataset", dataset)
                .description("Committed Kafka transactions since start").register(registry);
        Gauge.builder("xdmedge.kafka.transactions.failed", sink, KafkaEventSink::failedTransactions).tag("dataset", dataset)
                .description("Kafka transactions aborted or with unknown outcome since start").register(registry);
        Gauge.builder("xdmedge.kafka.ready", sink, s -> s.ready() ? 1 : 0).tag("dataset", dataset)
                .description("1 while the Kafka outlet accepts writes").register(registry);
    }

    public String scrape() {
        return registry.scrape();
    }
}
