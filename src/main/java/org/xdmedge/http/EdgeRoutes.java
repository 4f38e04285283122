package org.xdmedge.http;

import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.RequestIds;

/**
 * Every request's first stop: the every-answer headers and CORS preflights ({@link BrowserHeaders}),
 * {@code /health}, {@code /ready} and {@code /metrics}, then the edge endpoints ({@link EdgeHandler}).
 * A plain request handler rather than vertx-web's router: with a few fixed paths, the router's
 * per-request context and route matching would be pure cost. Also answers, as problems, what
 * is refused before the edge handler: requests the HTTP decoder could not read, HTTP versions
 * other than 1.x, paths that are not valid percent-encoding, and a handler that threw.
 */
final class EdgeRoutes implements Handler<HttpServerRequest> {
    private final BrowserHeaders browserHeaders;
    private final EdgeHandler edge;
    private final BooleanSupplier ready;
    private final Supplier<String> metrics;
    private final boolean http2;
    /** {@code /privacy/...}; null when {@code privacy.adminTokens} is not set (the paths are then unknown). */
    private PrivacyRoutes privacy;

    EdgeRoutes(BrowserHeaders browserHeaders, EdgeHandler edge, BooleanSupplier ready, Supplier<String> metrics) {
        this(browserHeaders, edge, ready, metrics, false);
    }

    EdgeRoutes(BrowserHeaders browserHeaders, EdgeHandler edge, BooleanSupplier ready, Supplier<String> metrics,
               boolean http2) {
        this.browserHeaders = browserHeaders;
        this.edge = edge;
        this.ready = ready;
        this.metrics = metrics;
        this.http2 = http2;
    }

    void privacy(PrivacyRoutes routes) {
        this.privacy = routes;
    }

    @Override
    public void handle(HttpServerRequest req) {
        try {
            if (req.version() == null) {
                unsupportedVersion(req);
                return;
            }
            route(req);
        } catch (Throwable e) {
            try {
                browserHeaders.decorate(req); // again: the failure may have come before them
            } catch (RuntimeException again) {
                // answered without them
            }
            RequestGuard.unexpected(req, e);
        }
    }

    /**
     * A request line naming an HTTP version other than 1.0 and 1.1 (HTTP/2 arrives by its own
     * preface, never as such a line): 505 with a problem, then the connection is closed.
     */
    private void unsupportedVersion(HttpServerRequest req) {
        browserHeaders.decorate(req);
        String requestId = RequestIds.answerId(null);
        HttpServerResponse res = req.response();
        res.putHeader(HeaderNames.X_REQUEST_ID, requestId).putHeader("connection", "close");
        Problems.send(res, new EdgeProblem(EdgeError.HTTP_VERSION_NOT_SUPPORTED,
                "This edge speaks HTTP/1.1 and HTTP/1.0" + (http2 ? " and HTTP/2" : "") + "."), requestId);
        req.connection().close();
    }

    private void route(HttpServerRequest req) {
        HttpServerResponse res = req.response();
        boolean cors = browserHeaders.decorate(req);
        HttpMethod method = req.method();
        if (method == HttpMethod.OPTIONS) {
            browserHeaders.preflight(req, cors);
            res.setStatusCode(204).end();
            return;
        }
        String path = req.path();
        if (!validPercentEncoding(path)) {
            String requestId = RequestIds.answerId(null);
            res.putHeader("x-request-id", requestId);
            Problems.send(res, new EdgeProblem(EdgeError.MALFORMED_REQUEST, "The request path or query cannot be decoded."),
                    requestId);
            return;
        }
        if (privacy != null && path.startsWith(PrivacyRoutes.PREFIX)) {
            privacy.handle(req);
            return;
        }
        if (method == HttpMethod.GET) {
            switch (withoutTrailingSlash(path)) {
                case "/health" -> {
                    res.putHeader("content-type", "application/json").end("{\"status\":\"UP\"}");
                    return;
                }
                case "/ready" -> {
                    boolean ok = ready.getAsBoolean();
                    res.setStatusCode(ok ? 200 : 503).putHeader("content-type", "application/json")
                            .end(ok ? "{\"status\":\"READY\"}" : "{\"status\":\"NOT_READY\"}");
                    return;
                }
                case "/metrics" -> {
                    res.putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.get());
                    return;
                }
                default -> { }
            }
        }
        edge.handle(req);
    }

    private static String withoutTrailingSlash(String path) {
        return path.length() > 1 && path.charAt(path.length() - 1) == '/' ? path.substring(0, path.length() - 1) : path;
    }

    /** Every {@code %} starts an escape of two hex digits (what decoding the path needs). */
    static boolean validPercentEncoding(String path) {
        for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
            if (i + 2 >= path.length() || !hexDigit(path.charAt(i + 1)) || !hexDigit(path.charAt(i + 2))) {
                return false;
            }
        }
        return true;
    }

    private static boolean hexDigit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /**
     * The request did not arrive whole within the deadline: 408 when no answer was started, and the
     * connection is closed either way (what is left of the body would be taken for the next request).
     */
    void timedOut(HttpServerRequest req, long seconds) {
        refuseAndClose(req, new EdgeProblem(EdgeError.REQUEST_TIMEOUT,
                "The request did not arrive whole within " + seconds + " s."));
    }

    /** As {@link #timedOut} for an HTTP/2 stream: the stream is reset, the connection's other streams go on. */
    void timedOutStream(HttpServerRequest req, long seconds) {
        HttpServerResponse res = req.response();
        if (!res.headWritten() && !res.ended() && !res.closed()) {
            String requestId = res.headers().get(HeaderNames.X_REQUEST_ID);
            if (requestId == null) {
                requestId = RequestIds.answerId(null);
                res.putHeader(HeaderNames.X_REQUEST_ID, requestId);
            }
            res.headers().remove("content-length");
            Problems.send(res, new EdgeProblem(EdgeError.REQUEST_TIMEOUT,
                    "The request did not arrive whole within " + seconds + " s."), requestId);
        }
        res.reset();
    }

    /** The body's framing broke (a chunk size or a chunk's end): 400, and the connection is closed. */
    void malformedBody(HttpServerRequest req) {
        refuseAndClose(req, new EdgeProblem(EdgeError.MALFORMED_REQUEST,
                "The request body's chunked framing could not be decoded."));
    }

    private void refuseAndClose(HttpServerRequest req, EdgeProblem problem) {
        HttpServerResponse res = req.response();
        if (!res.headWritten() && !res.ended() && !res.closed()) {
            browserHeaders.decorate(req);
            String requestId = res.headers().get(HeaderNames.X_REQUEST_ID);
            if (requestId == null) {
                requestId = RequestIds.answerId(null);
                res.putHeader(HeaderNames.X_REQUEST_ID, requestId);
            }
            res.headers().remove("content-length");
            res.putHeader("connection", "close");
            Problems.send(res, problem, requestId);
        }
        req.connection().close();
    }

    /** The decoder failed: the connection is closed once this answer is sent. */
    void invalidRequest(HttpServerRequest request) {
        browserHeaders.decorate(request);
        Throwable cause = request.decoderResult().cause();
        EdgeProblem problem;
        if (cause instanceof TooLongFrameException && cause.getMessage() != null && cause.getMessage().contains("header")) {
            problem = new EdgeProblem(EdgeError.HEADERS_TOO_LARGE, "The request headers are too large.");
        } else if (cause instanceof TooLongFrameException) {
            problem = new EdgeProblem(EdgeError.URI_TOO_LONG, "The request line is too long.");
        } else {
            problem = new EdgeProblem(EdgeError.MALFORMED_REQUEST, "The HTTP request could not be decoded.");
        }
        String requestId = RequestIds.answerId(null);
        request.response().putHeader("x-request-id", requestId).putHeader("connection", "close");
        Problems.send(request.response(), problem, requestId);
    }
}
