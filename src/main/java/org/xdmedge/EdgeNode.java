package org.xdmedge;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.auth.JwtAuthenticator;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.PersonalizationConfig;
import org.xdmedge.config.PrivacyConfig;
import org.xdmedge.consent.ConsentLedger;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.forwarding.ConsentGate;
import org.xdmedge.forwarding.Forwarding;
import org.xdmedge.http.EdgeHttpServer;
import org.xdmedge.identity.FpidSeeder;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.outlet.DatasetRouter;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.outlet.kafka.KafkaOutlets;
import org.xdmedge.personalization.ActivityRegistry;
import org.xdmedge.pipeline.EdgeService;
import org.xdmedge.privacy.AdminTokens;
import org.xdmedge.privacy.DeletionRecords;
import org.xdmedge.privacy.PrivacyJobs;
import org.xdmedge.quality.DataQuality;
import org.xdmedge.ratelimit.RateLimiter;
import org.xdmedge.state.IdentityStateStore;
import org.xdmedge.state.SharedState;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.store.log.FramePacking;

/** One running edge: shared state, outlets, pipeline and listener wired from a validated configuration. */
public final class EdgeNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EdgeNode.class);
    private final SharedState state;
    private final DatasetRouter outlets;
    private final EdgeHttpServer http;
    private final String host;
    private final ConsentLedger consent;
    private final JwtAuthenticator authenticator;
    private final EventLogStore store;
    private final Duration shutdownGrace;
    private final AtomicBoolean stopping;
    private final DataDirectoryLock lock;
    private final ActivityRegistry activities;
    private final Forwarding forwarding;
    private final PrivacyJobs privacy;
    private Boolean stoppedCleanly;

    private EdgeNode(SharedState state, DatasetRouter outlets, EdgeHttpServer http, String host, ConsentLedger consent,
                     JwtAuthenticator authenticator, EventLogStore store, Duration shutdownGrace,
                     AtomicBoolean stopping, DataDirectoryLock lock,
                     ActivityRegistry activities, Forwarding forwarding, PrivacyJobs privacy) {
        this.forwarding = forwarding;
        this.privacy = privacy;
        this.lock = lock;
        this.activities = activities;
        this.store = store;
        this.shutdownGrace = shutdownGrace;
        this.stopping = stopping;
        this.state = state;
        this.outlets = outlets;
        this.http = http;
        this.host = host;
        this.consent = consent;
        this.authenticator = authenticator;
    }

    /**
     * Locks {@code dataDir} (one serving process per data directory), then opens the stores and
     * starts the listener. A directory in use or unusable, or a listener that cannot bind, is a
     * {@link StartupException} whose message names it.
     */
    public static EdgeNode start(EdgeConfig config, Path dataDir) throws Exception {
        DataDirectoryLock lock = DataDirectoryLock.acquire(dataDir);
        try {
            return start(config, dataDir, lock);
        } catch (Exception | Error e) {
            lock.close();
            throw e;
        }
    }

    /**
     * Opens every part in order; if one fails, what was opened is closed again, newest first, and
     * the failure is thrown.
     */
    private static EdgeNode start(EdgeConfig config, Path dataDir, DataDirectoryLock lock) throws Exception {
        var storage = config.storage();
        // Schemas first: a file that does not compile stops start-up before anything is opened.
        DataQuality quality = DataQuality.compile(config);
        Deque<Runnable> opened = new ArrayDeque<>();
        try {
            // Event-id dedup and per-identity state (consent): Redis when state.redis is set, SQLite otherwise.
            SharedState state = SharedState.open(config.state(), dataDir);
            opened.push(state::close);
            // Before the store: its retention keeps what a destination has not passed yet.
            Forwarding forwarding = prepareForwarding(config, dataDir);
            opened.push(forwarding::close);
            EventLogStore store = openStore(storage, dataDir, forwarding);
            opened.push(store::close);
            EdgeMetrics metrics = new EdgeMetrics();
            metrics.bindStore(store);
            quality.observeWith(metrics.quality());
            Map<String, EventSink> kafka = KafkaOutlets.build(config, state::dedup, dataDir, metrics::bindKafka);
            // With Redis, the embedded store's datasets also dedup across nodes; alone, its unique index suffices.
            EventSink embedded = state.shared() ? state.dedup(store, 30_000, storage.retryAfterSeconds()) : store;
            DatasetRouter router = new DatasetRouter(embedded, kafka);
            opened.push(router::close);
            JwtAuthenticator authenticator = JwtAuthenticator.start(config, Clock.systemUTC());
            opened.push(authenticator::close);
            // Single node (SQLite state): this process is the only writer, so consent is cached write-through.
            // With Redis other nodes write too: no cache, every lookup asks Redis.
            ConsentLedger consent = new ConsentLedger(state.identityState(), ConsentLedger.DEFAULT_THREADS,
                    ConsentLedger.DEFAULT_QUEUE_CAPACITY, storage.retryAfterSeconds(),
                    state.shared() ? 0 : ConsentLedger.DEFAULT_CACHE_ENTRIES);
            opened.push(consent::close);
            ActivityRegistry activities = startActivities(config, metrics);
            opened.push(activities::close);
            var server = config.server();
            EdgeService service = new EdgeService(new DatastreamRegistry(config), router, server.region(), consent,
                    new FpidSeeder(fpidSecrets(config)), metrics::consentIgnored, authenticator, new RateLimiter(config),
                    activities, quality);
            PrivacyJobs privacy = startPrivacy(config, dataDir, consent, store, metrics);
            if (privacy != null) {
                opened.push(privacy::close);
            }
            var stopping = new AtomicBoolean();
            EdgeHttpServer http = listen(server, service, metrics, () -> !stopping.get() && router.ready(), privacy,
                    config.privacy());
            opened.push(http::close);
            // Forwarding reads the log on its own threads; /ready does not depend on it.
            forwarding.start(ConsentGate.of(state.identityState()), store::lastSeq);
            forwarding.bindMetrics(metrics.registry());
            return new EdgeNode(state, router, http, server.host(), consent, authenticator, store,
                    Duration.ofSeconds(server.shutdownGraceSeconds()), stopping, lock, activities, forwarding,
                    privacy);
        } catch (Exception e) {
            while (!opened.isEmpty()) {
                try {
                    opened.pop().run();
                } catch (RuntimeException closing) {
                    e.addSuppressed(closing);
                }
            }
            throw e;
        }
    }

    private static Forwarding prepareForwarding(EdgeConfig config, Path dataDir) throws Exception {
        try {
            return Forwarding.prepare(config, dataDir, System::getenv);
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage() + "; set it in the edge's environment", StartupException.USAGE, e);
        }
    }

    private static EventLogStore openStore(EdgeConfig.StorageConfig storage, Path dataDir, Forwarding forwarding)
            throws Exception {
        EventLogStore store = EventLogStore.open(dataDir, EventLogStore.Options.DEFAULTS
                .queueCapacity(storage.queueCapacity()).maxRequestsPerCommit(storage.maxRequestsPerCommit())
                .retryAfterSeconds(storage.retryAfterSeconds())
                .retention(storage.retention().maxBytesOrZero(), storage.retention().maxAge())
                .packing(FramePacking.of(storage.compression()))
                .writerHandOver(!"off".equals(storage.writerHandOver())).zerosAhead(storage.zerosAhead()), forwarding);
        if (storage.minFreeBytes() != null) {
            store.minFreeBytes(storage.minFreeBytes());
        }
        return store;
    }

    private static ActivityRegistry startActivities(EdgeConfig config, EdgeMetrics metrics) throws Exception {
        Map<String, PersonalizationConfig> personalization = new HashMap<>();
        config.datastreams().forEach(ds -> personalization.put(ds.id(), ds.personalization()));
        return ActivityRegistry.start(personalization, metrics.personalizationReloadFailures(),
                ActivityRegistry.DEFAULT_POLL);
    }

    /** The privacy jobs (docs/PRIVACY.md) when {@code privacy.adminTokens} is set, else null. */
    private static PrivacyJobs startPrivacy(EdgeConfig config, Path dataDir, ConsentLedger consent,
                                                               EventLogStore store, EdgeMetrics metrics) throws IOException {
        if (!config.privacy().enabled()) {
            return null;
        }
        Map<String, String> orgs = new HashMap<>();
        config.datastreams().forEach(ds -> orgs.put(ds.id(), ds.orgId()));
        return new PrivacyJobs(dataDir, orgs, consent::forget, store::requestRoll,
                FramePacking.of(config.storage().compression()),
                Duration.ofMinutes(config.privacy().reclaimMinutes()))
                .publishTo(DeletionRecords.of(config)).onDeleted(store::eventsDeleted).bindMetrics(metrics.registry())
                .start();
    }

    /** The privacy jobs, or null when the API is off. */
    public PrivacyJobs privacy() {
        return privacy;
    }

    /** Starts the listener; a port in use or a certificate the TLS stack refuses is named, not thrown raw. */
    private static EdgeHttpServer listen(EdgeConfig.ServerConfig server, EdgeService service, EdgeMetrics metrics,
                                         BooleanSupplier ready, PrivacyJobs privacy,
                                         PrivacyConfig privacyConfig) throws Exception {
        var tls = server.tls();
        try {
            return EdgeHttpServer.start(new EdgeHttpServer.Settings(server.host(), server.port(),
                    server.eventLoops(), server.maxRequestBytes(), server.region(),
                    tls.enabled() ? tls.certFile() : null, tls.enabled() ? tls.keyFile() : null,
                    server.requestTimeoutSeconds(), server.maxConnections(), server.http2Cleartext()),
                    service, metrics, ready, privacy,
                    privacy == null ? null : new AdminTokens(privacyConfig.adminTokens()));
        } catch (Exception e) {
            String address = server.host() + ":" + server.port();
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof BindException bind) {
                    String why = bind.getMessage() != null && bind.getMessage().contains("in use")
                            ? address + ": the port is in use by another process; stop it, or choose another port with --port or server.port"
                            : address + ": " + bind.getMessage() + "; check --host and --port (server.host, server.port)";
                    throw new StartupException("cannot listen on " + why, StartupException.RUNTIME, e);
                }
            }
            if (tls.enabled()) {
                throw new StartupException("cannot start the HTTPS listener with " + tls.certFile() + " and "
                        + tls.keyFile() + ": " + e.getMessage(), StartupException.USAGE, e);
            }
            throw e;
        }
    }

    /** Each organization's FPID secret: its own, else the shared {@code identity.fpidSecret}. */
    static Map<String, String> fpidSecrets(EdgeConfig config) {
        Map<String, String> secrets = new HashMap<>();
        for (var org : config.organizations()) {
            String secret = org.fpidSecret() != null ? org.fpidSecret() : config.identity().fpidSecret();
            if (secret != null) {
                secrets.put(org.id(), secret);
            }
        }
        return secrets;
    }

    public int port() {
        return http.port();
    }

    /** True when the listener speaks HTTPS. */
    public boolean tls() {
        return http.tls();
    }

    public String host() {
        return host;
    }

    public boolean ready() {
        return outlets.ready();
    }

    /** Event forwarding to the configured destinations. */
    public Forwarding forwarding() {
        return forwarding;
    }

    /** The embedded event store. */
    public EventLogStore store() {
        return store;
    }

    /** The activities of every datastream (re-read from their files when these change). */
    public ActivityRegistry activities() {
        return activities;
    }

    /** Per-identity state (consent): Redis when configured, SQLite otherwise. */
    public IdentityStateStore identityState() {
        return state.identityState();
    }

    /** Stops gracefully within {@code server.shutdownGraceSeconds}; see {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }

    /**
     * Stops accepting connections, lets requests already received finish (the writer commits what
     * it accepted and each is answered), then releases everything, all within the configured grace
     * period. Safe to call more than once.
     *
     * @return true when everything in flight was committed and answered within the grace period
     */
    public synchronized boolean shutdown() {
        if (stoppedCleanly != null) {
            return stoppedCleanly;
        }
        long deadline = System.nanoTime() + shutdownGrace.toNanos();
        log.info("xdm-edge stopping (grace period {} s)", shutdownGrace.toSeconds());
        stopping.set(true);
        boolean drained = false;
        boolean committed = false;
        try {
            try {
                drained = http.drain(shutdownGrace);
                forwarding.stop(Math.max(0, deadline - System.nanoTime()) / 1_000_000);
                activities.close();
                if (privacy != null) {
                    privacy.close(); // a job cut short runs again at the next start
                }
                consent.close();
            } finally {
                // The embedded store first, bounded by what is left of the grace period, and always
                // before the lock goes; closing the outlets afterwards finds it closed (and flushes Kafka).
                committed = store.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
            outlets.close();
            state.close();
            http.close();
            authenticator.close();
        } finally {
            // Last: another process may take the directory once everything here is closed.
            lock.close();
        }
        stoppedCleanly = drained && committed;
        if (stoppedCleanly) {
            log.info("xdm-edge stopped: every accepted request was committed and answered");
        } else {
            log.warn("xdm-edge stopped after its grace period with work still in flight");
        }
        return stoppedCleanly;
    }
}
