package org.xdmedge.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.http1.Http1ServerConnection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.ops.LogSafe;

/**
 * Bounds what one client can hold: at most {@code maxConnections} connections open over all
 * listeners (one more is closed as soon as it is accepted), and every request must arrive in time.
 * A connection's first request head must arrive within the request timeout of its opening, a later
 * one within the keep-alive bound of the previous answer (a load balancer keeps connections open
 * between requests; the idle timeout alone would let a head trickling in a byte at a time hold its
 * connection for ever); a body within the request timeout of its head. A body still arriving when
 * its time is up is answered 408 and its connection closed; a connection with no head in time is
 * closed. One guard per listener, used only on that listener's event loop; the clocks are read by a
 * sweep a few times per timeout rather than by a timer per request.
 */
final class ConnectionGuard {
    private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);

    private final Vertx vertx;
    private final EdgeRoutes routes;
    private final long timeoutSeconds;
    private final long timeoutNanos;
    private final long keepAliveNanos;
    private final int maxConnections;
    private final AtomicInteger open;
    private final EdgeMetrics metrics;
    /** HTTP/1.x connections of this listener (HTTP/2 streams get a timer each, see {@link #request}). */
    private final Map<HttpConnection, Tracked> connections = new HashMap<>();

    /**
     * One connection's request being received or answered (null: waiting for one), since when, and
     * whether one was answered before (the next head then has the keep-alive bound).
     */
    private static final class Tracked {
        HttpServerRequest current;
        long since;
        boolean answeredBefore;
    }

    ConnectionGuard(Vertx vertx, EdgeRoutes routes, int timeoutSeconds, int keepAliveSeconds, int maxConnections,
                    AtomicInteger open, EdgeMetrics metrics) {
        this.vertx = vertx;
        this.routes = routes;
        this.timeoutSeconds = timeoutSeconds;
        this.timeoutNanos = timeoutSeconds * 1_000_000_000L;
        this.keepAliveNanos = Math.max(timeoutSeconds, keepAliveSeconds) * 1_000_000_000L;
        this.maxConnections = maxConnections;
        this.open = open;
        this.metrics = metrics;
    }

    /** Starts the sweep on the calling context (the listener's event loop). */
    void start() {
        long interval = Math.max(50, Math.min(1000, timeoutSeconds * 1000 / 4));
        vertx.setPeriodic(interval, id -> sweep());
    }

    void connected(HttpConnection conn) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            metrics.connectionClosed("limit");
            conn.close();
            return;
        }
        Tracked tracked = new Tracked();
        tracked.since = System.nanoTime();
        if (conn instanceof Http1ServerConnection http1) {
            connections.put(conn, tracked);
            // Vert.x's own first handler answers HTTP versions other than 1.x with a bare 501; the
            // edge answers them itself, with a problem (EdgeRoutes).
            http1.handler(this::request);
        }
        conn.closeHandler(v -> {
            connections.remove(conn);
            open.decrementAndGet();
        });
        conn.exceptionHandler(e -> failed(tracked, e));
    }

    void request(HttpServerRequest req) {
        if (req.version() == HttpVersion.HTTP_2) {
            vertx.setTimer(timeoutNanos / 1_000_000, id -> {
                if (!req.isEnded()) {
                    metrics.connectionClosed("timeout");
                    routes.timedOutStream(req, timeoutSeconds);
                }
            });
        } else {
            Tracked tracked = connections.get(req.connection());
            if (tracked != null) {
                tracked.current = req;
                tracked.since = System.nanoTime();
            }
        }
        routes.handle(req);
    }

    /**
     * The connection failed. While a request's body was arriving, anything but an I/O error is the
     * decoder refusing its framing (a chunk size that is not hex, a chunk not ended by CRLF): it is
     * answered 400 before Vert.x closes the connection.
     */
    private void failed(Tracked tracked, Throwable e) {
        HttpServerRequest req = tracked.current;
        if (req != null && !req.isEnded() && !(e instanceof IOException)) {
            metrics.connectionClosed("framing");
            routes.malformedBody(req);
        }
        if (log.isDebugEnabled()) {
            log.debug("connection failed: {}", LogSafe.text(e.toString()));
        }
    }

    private void sweep() {
        long now = System.nanoTime();
        List<Map.Entry<HttpConnection, Tracked>> late = null;
        for (Map.Entry<HttpConnection, Tracked> entry : connections.entrySet()) {
            Tracked tracked = entry.getValue();
            HttpServerRequest req = tracked.current;
            if (req != null && req.isEnded()) {
                if (req.response().ended()) {
                    tracked.current = null; // answered: the next request's head is awaited from now
                    tracked.since = now;
                    tracked.answeredBefore = true;
                }
                continue; // received whole, being answered
            }
            if (now - tracked.since > (req == null && tracked.answeredBefore ? keepAliveNanos : timeoutNanos)) {
                tracked.since = now; // once: closing takes a moment
                if (late == null) {
                    late = new ArrayList<>();
                }
                late.add(entry);
            }
        }
        if (late == null) {
            return;
        }
        for (Map.Entry<HttpConnection, Tracked> entry : late) {
            HttpServerRequest req = entry.getValue().current;
            if (req == null) {
                entry.getKey().close(); // no request head in time: nothing to answer
            } else {
                metrics.connectionClosed("timeout");
                routes.timedOut(req, timeoutSeconds);
            }
        }
    }
}
