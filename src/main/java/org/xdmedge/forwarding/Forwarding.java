package org.xdmedge.forwarding;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.config.DestinationConfig;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.ForwardTo;
import org.xdmedge.store.log.RetentionHold;

/**
 * Event forwarding: one {@link Forwarder} per configured destination, each reading the embedded
 * event log on its own thread, and for the Kafka datasets it forwards a {@link KafkaForwarder}
 * reading their topics in a consumer group. Also the log's {@link RetentionHold}: retention keeps what a
 * destination has not passed, up to {@code forwarding.maxLagBytes}.
 */
public final class Forwarding implements RetentionHold, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Forwarding.class);

    private final List<Forwarder> forwarders;
    private final List<KafkaForwarder> kafka;
    private final long maxLagBytes;
    private final AtomicLong retentionDropped = new AtomicLong();

    private Forwarding(List<Forwarder> forwarders, List<KafkaForwarder> kafka, long maxLagBytes) {
        this.forwarders = List.copyOf(forwarders);
        this.kafka = List.copyOf(kafka);
        this.maxLagBytes = maxLagBytes;
    }

    /**
     * The forwarders of {@code config}'s destinations, their positions read from {@code dataDir},
     * not started; {@code env} resolves {@code ${env:NAME}} (a variable not set: IllegalArgumentException).
     */
    public static Forwarding prepare(EdgeConfig config, Path dataDir, Function<String, String> env) throws IOException {
        List<Forwarder> forwarders = new ArrayList<>();
        List<KafkaForwarder> kafka = new ArrayList<>();
        for (DestinationConfig destination : config.destinations()) {
            Forwarder forwarder = forwarder(config, destination, HttpDestination.of(destination, env), dataDir);
            forwarders.add(forwarder);
            kafkaTopics(config, destination.id()).forEach((cluster, topics) -> kafka.add(new KafkaForwarder(forwarder,
                    cluster.bootstrapServers(), cluster.producer(), topics, destination.batch().maxEvents(),
                    config.forwarding().pollMs())));
        }
        return new Forwarding(forwarders, kafka, config.forwarding().maxLagBytes());
    }

    /**
     * The Kafka topics of the datasets of the datastreams that forward to {@code destination}, by
     * cluster (the first dataset's settings of each bootstrap list).
     */
    static Map<EdgeConfig.KafkaOutletConfig, List<String>> kafkaTopics(EdgeConfig config, String destination) {
        Map<String, EdgeConfig.KafkaOutletConfig> clusters = new LinkedHashMap<>();
        Map<EdgeConfig.KafkaOutletConfig, List<String>> topics = new LinkedHashMap<>();
        for (var ds : config.datastreams()) {
            if (ds.forwardTo().stream().noneMatch(to -> destination.equals(to.destination()))) {
                continue;
            }
            for (var dataset : config.datasets()) {
                if (dataset.name() != null && dataset.name().equals(ds.dataset()) && dataset.kafka() != null
                        && EdgeConfig.DatasetConfig.KAFKA.equals(dataset.outlet())) {
                    var cluster = clusters.computeIfAbsent(dataset.kafka().bootstrapServers(), b -> dataset.kafka());
                    String topic = dataset.kafka().topic().replace("{dataset}", dataset.name())
                            .replace("{datastreamId}", ds.id());
                    List<String> list = topics.computeIfAbsent(cluster, c -> new ArrayList<>());
                    if (!list.contains(topic)) {
                        list.add(topic);
                    }
                }
            }
        }
        return topics;
    }

    static Forwarder forwarder(EdgeConfig config, DestinationConfig destination, HttpDestination sender, Path dataDir)
            throws IOException {
        return new Forwarder(destination, sender, dataDir, routes(config, destination.id()), orgs(config),
                config.forwarding().pollMs());
    }

    /** Datastream id to the event types it forwards to {@code destination} (empty: all). */
    static Map<String, Set<String>> routes(EdgeConfig config, String destination) {
        Map<String, Set<String>> routes = new HashMap<>();
        for (var ds : config.datastreams()) {
            for (ForwardTo to : ds.forwardTo()) {
                if (destination.equals(to.destination())) {
                    routes.put(ds.id(), Set.copyOf(new HashSet<>(to.eventTypes())));
                }
            }
        }
        return routes;
    }

    static Map<String, String> orgs(EdgeConfig config) {
        Map<String, String> orgs = new LinkedHashMap<>();
        for (var ds : config.datastreams()) {
            if (ds.orgId() != null) {
                orgs.put(ds.id(), ds.orgId());
            }
        }
        return orgs;
    }

    /** Starts every forwarder; {@code logEnd}: the last sequence number on disk (for the lag). */
    public void start(ConsentGate consent, LongSupplier logEnd) {
        for (Forwarder f : forwarders) {
            f.start(consent, logEnd);
        }
        kafka.forEach(KafkaForwarder::start);
    }

    public List<Forwarder> forwarders() {
        return forwarders;
    }

    @Override
    public long neededFrom() {
        long needed = Long.MAX_VALUE;
        for (Forwarder f : forwarders) {
            needed = Math.min(needed, f.position() + 1);
        }
        return needed;
    }

    @Override
    public long maxHeldBytes() {
        return maxLagBytes;
    }

    @Override
    public void dropping(long fromSeq, long toSeq) {
        for (Forwarder f : forwarders) {
            long before = f.retentionDropped.get();
            try {
                f.dropping(fromSeq, toSeq);
            } catch (IOException | RuntimeException e) {
                // Retention goes on regardless: the log must not outgrow its limit.
                log.error("forwarding to '{}': events {} to {} are deleted by retention and could not be written as dead letters: {}",
                        f.id(), fromSeq, toSeq, e.toString());
            }
            retentionDropped.addAndGet(f.retentionDropped.get() - before);
        }
    }

    /** Per destination: delivered, retried, dead-lettered, skipped for consent, and the lag. */
    public void bindMetrics(MeterRegistry registry) {
        for (Forwarder f : forwarders) {
            counter(registry, "xdmedge.forwarding.delivered", "Events the destination answered 2xx for", f,
                    x -> x.delivered.get());
            counter(registry, "xdmedge.forwarding.retries", "Requests tried again after a 5xx, 408, 429, timeout or connection error", f,
                    x -> x.retried.get());
            counter(registry, "xdmedge.forwarding.deadletters", "Events written to the destination's dead letters", f,
                    x -> x.deadLettered.get());
            counter(registry, "xdmedge.forwarding.consent.skipped", "Events not forwarded: the visitor's consent is out or pending", f,
                    x -> x.consentSkipped.get());
            counter(registry, "xdmedge.forwarding.retention.dropped", "Events retention deleted before the destination had them (dead letters)", f,
                    x -> x.retentionDropped.get());
            Gauge.builder("xdmedge.forwarding.lag.events", f, Forwarder::lagEvents).tag("destination", f.id())
                    .description("Events in the log after the destination's position").register(registry);
            Gauge.builder("xdmedge.forwarding.lag.seconds", f, Forwarder::lagSeconds).tag("destination", f.id())
                    .description("Age of the oldest event the destination has not passed").register(registry);
            List<KafkaForwarder> topics = kafka.stream().filter(k -> k.destination().equals(f.id())).toList();
            if (!topics.isEmpty()) {
                Gauge.builder("xdmedge.forwarding.kafka.lag.events", topics,
                                ks -> ks.stream().mapToLong(KafkaForwarder::lagEvents).sum()).tag("destination", f.id())
                        .strongReference(true) // the list is this method's own: held weakly it would read NaN
                        .description("Records of the Kafka partitions this node reads that the destination has not passed")
                        .register(registry);
                Gauge.builder("xdmedge.forwarding.kafka.lag.seconds", topics,
                                ks -> ks.stream().mapToDouble(KafkaForwarder::lagSeconds).max().orElse(0)).tag("destination", f.id())
                        .strongReference(true)
                        .description("Age of the oldest Kafka record this node holds for the destination and has not passed")
                        .register(registry);
            }
        }
    }

    private static void counter(MeterRegistry registry, String name, String description, Forwarder f,
                                ToDoubleFunction<Forwarder> value) {
        FunctionCounter.builder(name, f, value).tag("destination", f.id()).description(description).register(registry);
    }

    /** Stops every forwarder within {@code millis} each; a batch in flight is sent again after the restart. */
    public void stop(long millis) {
        forwarders.forEach(Forwarder::requestStop);
        for (KafkaForwarder k : kafka) {
            k.stop(millis);
        }
        for (Forwarder f : forwarders) {
            f.stop(millis);
        }
    }

    @Override
    public void close() {
        stop(5000);
    }
}
