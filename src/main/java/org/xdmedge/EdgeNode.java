package org.xdmedge;

import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.http.EdgeHttpServer;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.pipeline.EdgeService;
import org.xdmedge.store.SqliteEventStore;

/** One running edge: store, pipeline and listener wired from a validated configuration. */
public final class EdgeNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EdgeNode.class);
    private final SqliteEventStore store;
    private final EdgeHttpServer http;
    private final String host;

    private EdgeNode(SqliteEventStore store, EdgeHttpServer http, String host) {
        this.store = store;
        this.http = http;
        this.host = host;
    }

    public static EdgeNode start(EdgeConfig config, Path dataDir) throws Exception {
        var storage = config.storage();
        SqliteEventStore store = SqliteEventStore.open(dataDir, storage.queueCapacity(),
                storage.maxRequestsPerCommit(), storage.retryAfterSeconds());
        try {
            EdgeMetrics metrics = new EdgeMetrics();
            metrics.bindStore(store);
            var server = config.server();
            EdgeService service = new EdgeService(new DatastreamRegistry(config), store, server.region());
            EdgeHttpServer http = EdgeHttpServer.start(new EdgeHttpServer.Settings(server.host(), server.port(),
                    server.eventLoops(), server.maxRequestBytes(), server.region()), service, metrics, store::ready);
            return new EdgeNode(store, http, server.host());
        } catch (Exception e) {
            store.close();
            throw e;
        }
    }

    public int port() {
        return http.port();
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
        store.close();
        http.close();
    }
}
