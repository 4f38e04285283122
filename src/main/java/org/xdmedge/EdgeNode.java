package org.xdmedge;

import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.auth.JwtAuthenticator;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.consent.ConsentLedger;
import org.xdmedge.identity.FpidSeeder;
import org.xdmedge.store.IdentityStateStore;
import org.xdmedge.store.SqliteIdentityStateStore;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.http.EdgeHttpServer;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.pipeline.EdgeService;
import org.xdmedge.ratelimit.RateLimiter;
import org.xdmedge.store.SqliteEventStore;

/** One running edge: store, pipeline and listener wired from a validated configuration. */
public final class EdgeNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EdgeNode.class);
    private final SqliteEventStore store;
    private final EdgeHttpServer http;
    private final String host;
    private final ConsentLedger consent;
    private final IdentityStateStore identityState;
    private final JwtAuthenticator authenticator;

    private EdgeNode(SqliteEventStore store, EdgeHttpServer http, String host, ConsentLedger consent,
                     IdentityStateStore identityState, JwtAuthenticator authenticator) {
        this.store = store;
        this.http = http;
        this.host = host;
        this.consent = consent;
        this.identityState = identityState;
        this.authenticator = authenticator;
    }

    public static EdgeNode start(EdgeConfig config, Path dataDir) throws Exception {
        var storage = config.storage();
        SqliteEventStore store = SqliteEventStore.open(dataDir, storage.queueCapacity(),
                storage.maxRequestsPerCommit(), storage.retryAfterSeconds());
        IdentityStateStore identityState = null;
        ConsentLedger consent = null;
        JwtAuthenticator authenticator = null;
        try {
            authenticator = JwtAuthenticator.start(config, Clock.systemUTC());
            identityState = new SqliteIdentityStateStore(dataDir);
            consent = new ConsentLedger(identityState, ConsentLedger.DEFAULT_THREADS,
                    ConsentLedger.DEFAULT_QUEUE_CAPACITY, storage.retryAfterSeconds());
            EdgeMetrics metrics = new EdgeMetrics();
            metrics.bindStore(store);
            var server = config.server();
            EdgeService service = new EdgeService(new DatastreamRegistry(config), store, server.region(), consent,
                    new FpidSeeder(fpidSecrets(config)), metrics::consentIgnored, authenticator, new RateLimiter(config));
            EdgeHttpServer http = EdgeHttpServer.start(new EdgeHttpServer.Settings(server.host(), server.port(),
                    server.eventLoops(), server.maxRequestBytes(), server.region(),
                    server.tls().enabled() ? server.tls().certFile() : null,
                    server.tls().enabled() ? server.tls().keyFile() : null), service, metrics, store::ready);
            return new EdgeNode(store, http, server.host(), consent, identityState, authenticator);
        } catch (Exception e) {
            if (authenticator != null) {
                authenticator.close();
            }
            if (consent != null) {
                consent.close();
            }
            if (identityState != null) {
                identityState.close();
            }
            store.close();
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
        return store.ready();
    }

    /** Stops listening, lets the writer commit what it accepted, then releases everything. */
    @Override
    public void close() {
        log.info("xdm-edge stopping");
        http.stopListening();
        consent.close();
        identityState.close();
        store.close();
        http.close();
        authenticator.close();
    }
}
