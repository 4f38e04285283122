package org.xdmedge.http;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.pipeline.EdgeService;
import org.xdmedge.privacy.AdminTokens;
import org.xdmedge.privacy.PrivacyJobs;
import org.xdmedge.protocol.Regions;

/**
 * The HTTP listener: one server per event loop on a shared port, routing the edge endpoints plus
 * {@code /health}, {@code /ready} and {@code /metrics}.
 */
public final class EdgeHttpServer implements AutoCloseable {
    /** A connection silent this long is closed; also how long a kept-alive connection waits for its next request. */
    static final int IDLE_TIMEOUT_SECONDS = 60;

    private final Vertx vertx;
    private final List<HttpServer> servers = Collections.synchronizedList(new ArrayList<>());
    private int port;
    private boolean tls;

    private EdgeHttpServer(Vertx vertx) {
        this.vertx = vertx;
    }

    /**
     * Everything the listener needs. {@code tlsCertFile}/{@code tlsKeyFile} (PEM) switch the listener
     * to HTTPS; both or neither. {@code requestTimeoutSeconds} and {@code maxConnections}: see
     * {@link ConnectionGuard}; {@code http2Cleartext} accepts HTTP/2 without TLS (h2c).
     */
    public record Settings(String host, int port, int eventLoops, int maxRequestBytes, String region,
                           String tlsCertFile, String tlsKeyFile, int requestTimeoutSeconds, int maxConnections,
                           boolean http2Cleartext) {
        public Settings(String host, int port, int eventLoops, int maxRequestBytes, String region) {
            this(host, port, eventLoops, maxRequestBytes, region, null, null);
        }

        public Settings(String host, int port, int eventLoops, int maxRequestBytes, String region,
                        String tlsCertFile, String tlsKeyFile) {
            this(host, port, eventLoops, maxRequestBytes, region, tlsCertFile, tlsKeyFile, 30, 10_000, false);
        }

        public boolean tls() {
            return tlsCertFile != null;
        }
    }

    public static EdgeHttpServer start(Settings settings, EdgeService service, EdgeMetrics metrics,
                                       BooleanSupplier ready) throws Exception {
        return start(settings, service, metrics, ready, null, null);
    }

    /** As above, with {@code /privacy/jobs} answered by {@code privacy} for holders of {@code tokens}. */
    public static EdgeHttpServer start(Settings settings, EdgeService service, EdgeMetrics metrics,
                                       BooleanSupplier ready, PrivacyJobs privacy,
                                       AdminTokens tokens) throws Exception {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(settings.eventLoops()));
        EdgeHttpServer edge = new EdgeHttpServer(vertx);
        try {
            EdgeRoutes routes = new EdgeRoutes(new BrowserHeaders(Regions.edgeHeader(settings.region())),
                    new EdgeHandler(service, settings.maxRequestBytes(), metrics), ready, metrics::scrape,
                    settings.http2Cleartext());
            if (privacy != null) {
                routes.privacy(new PrivacyRoutes(privacy, tokens));
            }
            AtomicInteger open = new AtomicInteger();
            metrics.bindConnections(open::get);

            HttpServerOptions options = new HttpServerOptions()
                    .setHost(settings.host())
                    .setIdleTimeout(IDLE_TIMEOUT_SECONDS)
                    .setIdleTimeoutUnit(TimeUnit.SECONDS)
                    .setMaxInitialLineLength(8192)
                    .setMaxHeaderSize(16384)
                    // HTTP/2 over plain TCP only when asked for (server.http2Cleartext); over TLS the
                    // listener offers no ALPN, so HTTP/1.1 only.
                    .setHttp2ClearTextEnabled(settings.http2Cleartext())
                    .setCompressionSupported(false)
                    .setDecompressionSupported(false)
                    // No WebSocket endpoint: without these Vert.x leaves the compression-extension
                    // handler out of every connection's pipeline.
                    .setPerMessageWebSocketCompressionSupported(false)
                    .setPerFrameWebSocketCompressionSupported(false);
            if (settings.tls()) {
                // The Web SDK only speaks https; PEM files as written by certbot, openssl or a CA.
                options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                        .setCertPath(settings.tlsCertFile()).setKeyPath(settings.tlsKeyFile()));
            }
            // One server per event loop, all sharing one port. Vert.x gives servers asking for port 0
            // different ports, so a free port is chosen first.
            int port = settings.port() == 0 ? freePort(settings.host()) : settings.port();
            await(vertx.deployVerticle(() -> new ListenerVerticle(new HttpServerOptions(options).setPort(port), routes,
                    edge.servers, verticleVertx -> new ConnectionGuard(verticleVertx, routes,
                            settings.requestTimeoutSeconds(), IDLE_TIMEOUT_SECONDS, settings.maxConnections(), open,
                            metrics)),
                    new DeploymentOptions().setInstances(settings.eventLoops())));
            edge.port = edge.servers.get(0).actualPort();
            edge.tls = settings.tls();
            return edge;
        } catch (Exception e) {
            edge.close();
            throw e;
        }
    }

    /** One listening server on its own event loop. */
    private static final class ListenerVerticle extends VerticleBase {
        private final HttpServerOptions options;
        private final EdgeRoutes routes;
        private final List<HttpServer> started;
        private final Function<Vertx, ConnectionGuard> guards;

        ListenerVerticle(HttpServerOptions options, EdgeRoutes routes, List<HttpServer> started,
                         Function<Vertx, ConnectionGuard> guards) {
            this.options = options;
            this.routes = routes;
            this.started = started;
            this.guards = guards;
        }

        @Override
        public Future<?> start() {
            ConnectionGuard guard = guards.apply(vertx);
            guard.start();
            return vertx.createHttpServer(options).connectionHandler(guard::connected).requestHandler(guard::request)
                    .invalidRequestHandler(routes::invalidRequest).listen()
                    .onSuccess(server -> {
                        synchronized (started) {
                            started.add(server);
                        }
                    });
        }
    }

    public int port() {
        return port;
    }

    public boolean tls() {
        return tls;
    }

    /**
     * Stops accepting connections and lets requests already received finish (their answers carry
     * {@code connection: close}), for at most {@code grace}; then closes what is left.
     *
     * @return true when every connection closed on its own within the grace period
     */
    public boolean drain(Duration grace) {
        List<Future<Void>> closing = new ArrayList<>();
        for (HttpServer server : List.copyOf(servers)) {
            closing.add(server.shutdown(grace));
        }
        servers.clear();
        long started = System.nanoTime();
        try {
            Future.all(closing).toCompletionStage().toCompletableFuture()
                    .get(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return false;
        }
        // Vert.x closes the remaining connections itself when the grace period runs out.
        return System.nanoTime() - started < grace.toNanos();
    }

    /** Stops accepting connections; in-flight requests on open connections may still finish. */
    public void stopListening() {
        for (HttpServer server : List.copyOf(servers)) {
            try {
                await(server.close());
            } catch (Exception e) {
                // closing anyway
            }
        }
        servers.clear();
    }

    @Override
    public void close() {
        stopListening();
        try {
            await(vertx.close());
        } catch (Exception e) {
            // closing anyway
        }
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, 0));
            return probe.getLocalPort();
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
