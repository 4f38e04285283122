package org.xdmedge.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.ops.LogBudget;
import org.xdmedge.ops.LogSafe;
import org.xdmedge.pipeline.EdgeCall;
import org.xdmedge.pipeline.EdgeReply;
import org.xdmedge.pipeline.EdgeService;
import org.xdmedge.protocol.EdgeAction;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgePath;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.RequestIds;

/**
 * The edge endpoints over HTTP, kept thin: path, method, content type, body size and encoding are
 * checked here; everything else is the pipeline's. Every answer carries {@code x-request-id}
 * ({@code x-adobe-edge} is put on by {@link EdgeRoutes} before); every refusal is a problem document.
 */
final class EdgeHandler implements Handler<HttpServerRequest> {
    private static final Logger log = LoggerFactory.getLogger(EdgeHandler.class);
    private static final Set<String> JSON_TYPES = Set.of("application/json", "text/plain", "text/javascript");

    private final EdgeService service;
    private final int maxRequestBytes;
    private final EdgeMetrics metrics;
    /** 5xx answers are logged one by one up to 20 per 10 s, then counted (see {@link LogBudget}). */
    private final LogBudget serverErrorLines = new LogBudget(20, 10_000_000_000L);

    EdgeHandler(EdgeService service, int maxRequestBytes, EdgeMetrics metrics) {
        this.service = service;
        this.maxRequestBytes = maxRequestBytes;
        this.metrics = metrics;
    }

    @Override
    public void handle(HttpServerRequest req) {
        long started = System.nanoTime();
        MultiMap params = queryParams(req, started);
        if (params == null) {
            return;
        }
        String callerId = callerId(req, params);
        if (callerId != null && !RequestIds.validCallerId(callerId)) {
            refuseCallerId(req, started);
            return;
        }
        String requestId = RequestIds.answerId(callerId);
        req.response().putHeader(HeaderNames.X_REQUEST_ID, requestId);
        EdgePath.Route route = route(req, requestId, started);
        if (route == null) {
            return;
        }
        String actionName = route.action().name().toLowerCase(Locale.ROOT);
        if (!methodAndTypeAccepted(req, requestId, actionName, started)) {
            return;
        }
        if (CappedBody.hopeless(CappedBody.declaredLength(req), maxRequestBytes)) {
            refuseHugeBody(req, requestId, actionName, started);
            return;
        }
        Context context = Vertx.currentContext();
        readBody(req, requestId, actionName, started,
                raw -> serve(req, new Admitted(route, params, callerId, requestId, actionName, started), context, raw),
                () -> respondProblem(req.response(), BodyDecoder.tooLarge(maxRequestBytes), requestId, actionName, started));
    }

    /** What the checks before the body decided about a request. */
    private record Admitted(EdgePath.Route route, MultiMap params, String callerId, String requestId, String actionName,
                            long started) {}

    /** The query parameters; null when they are not valid percent-encoding (answered). */
    private MultiMap queryParams(HttpServerRequest req, long started) {
        try {
            return req.params();
        } catch (IllegalArgumentException e) {
            String requestId = RequestIds.answerId(null);
            req.response().putHeader(HeaderNames.X_REQUEST_ID, requestId);
            fail(req, req.response(), new EdgeProblem(EdgeError.INVALID_FIELD,
                    "The query string is not valid percent-encoding."), requestId, "-", started);
            return null;
        }
    }

    /** The caller's own request id: the {@code requestId} parameter, else the header; null if none. */
    private static String callerId(HttpServerRequest req, MultiMap params) {
        String callerId = params.get("requestId");
        return callerId != null ? callerId : req.getHeader(HeaderNames.X_REQUEST_ID);
    }

    private void refuseCallerId(HttpServerRequest req, long started) {
        String requestId = RequestIds.answerId(null);
        req.response().putHeader(HeaderNames.X_REQUEST_ID, requestId);
        fail(req, req.response(), EdgeProblem.field(EdgeError.INVALID_FIELD, "requestId",
                "a requestId is 1 to 128 letters, digits, '.', '_', ':' or '-'"), requestId, "-", started);
    }

    /** The endpoint the path names; null when there is none (answered 404). */
    private EdgePath.Route route(HttpServerRequest req, String requestId, long started) {
        EdgePath.Match match = EdgePath.parse(req.path());
        if (match instanceof EdgePath.UnknownHint) {
            discardBody(req, guarded(req, "unknown", started, v -> {
                req.response().setStatusCode(404).end();
                metrics.request("unknown", 404, System.nanoTime() - started);
            }));
            return null;
        }
        if (!(match instanceof EdgePath.Route route)) {
            fail(req, req.response(), new EdgeProblem(EdgeError.NOT_FOUND, "No edge endpoint at this path."),
                    requestId, "-", started);
            return null;
        }
        return route;
    }

    /** POST with a JSON media type (or none); false when refused (answered). */
    private boolean methodAndTypeAccepted(HttpServerRequest req, String requestId, String actionName, long started) {
        HttpServerResponse res = req.response();
        if (req.method() != HttpMethod.POST) {
            res.putHeader("allow", "POST, OPTIONS");
            fail(req, res, new EdgeProblem(EdgeError.METHOD_NOT_ALLOWED, "Edge endpoints take POST requests."),
                    requestId, actionName, started);
            return false;
        }
        String contentType = req.getHeader(HeaderNames.CONTENT_TYPE);
        if (contentType == null) {
            return true;
        }
        int semicolon = contentType.indexOf(';');
        String media = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
        if (isJsonType(media)) {
            return true;
        }
        media = media.toLowerCase(Locale.ROOT);
        fail(req, res, new EdgeProblem(EdgeError.UNSUPPORTED_CONTENT_TYPE, "Content type '"
                + BodyDecoder.shorten(media) + "' is not supported; send JSON as application/json or text/plain."),
                requestId, actionName, started);
        return false;
    }

    /** A declared length far over the limit: answered 413 at once and the connection closed, nothing read. */
    private void refuseHugeBody(HttpServerRequest req, String requestId, String actionName, long started) {
        HttpServerResponse res = req.response();
        res.putHeader("connection", "close");
        Problems.send(res, BodyDecoder.tooLarge(maxRequestBytes), requestId);
        metrics.request(actionName, 413, System.nanoTime() - started);
        req.connection().close();
    }

    /** The whole body is here: decoded, handed to the pipeline, and its outcome answered on the request's loop. */
    private void serve(HttpServerRequest req, Admitted a, Context context, byte[] raw) {
        HttpServerResponse res = req.response();
        byte[] body;
        try {
            body = BodyDecoder.decode(raw, req.getHeader(HeaderNames.CONTENT_ENCODING), maxRequestBytes);
        } catch (EdgeProblem problem) {
            respondProblem(res, problem, a.requestId(), a.actionName(), a.started());
            return;
        }
        EdgeAction action = a.route().action();
        EdgeCall call = new EdgeCall(action, a.route().locationHint(), a.requestId(), a.callerId(),
                datastreamParam(a.params()), action == EdgeAction.V2_COLLECT && "true".equalsIgnoreCase(a.params().get("silent")),
                req.headers().getAll(HeaderNames.COOKIE), headers(req), body, System.currentTimeMillis());
        service.handle(call).whenComplete((reply, failure) -> {
            Handler<Void> answer = guarded(req, a.actionName(), a.started(), v -> {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                if (cause instanceof EdgeProblem problem) {
                    respondProblem(res, problem, a.requestId(), a.actionName(), a.started());
                } else if (cause != null) {
                    unexpected(req, cause, a.actionName(), a.started());
                } else {
                    respond(res, reply, a.actionName(), a.started());
                }
            });
            // Completed on the request's own event loop (nothing stored, a cached consent answer,
            // a refusal): answer at once instead of queueing another task.
            if (Vertx.currentContext() == context) {
                answer.handle(null);
            } else {
                context.runOnContext(answer);
            }
        });
    }

    /**
     * {@code step}, run where Vert.x calls back (a body chunk, the body's end, the pipeline's
     * answer): whatever it throws is answered 500 by {@link RequestGuard}, never left unanswered.
     */
    private <T> Handler<T> guarded(HttpServerRequest req, String action, long started, Handler<T> step) {
        return value -> {
            try {
                step.handle(value);
            } catch (Throwable e) {
                unexpected(req, e, action, started);
            }
        };
    }

    private void unexpected(HttpServerRequest req, Throwable failure, String action, long started) {
        if (RequestGuard.unexpected(req, failure)) {
            metrics.request(action, 500, System.nanoTime() - started);
        }
    }

    private void respond(HttpServerResponse res, EdgeReply reply, String action, long started) {
        if (res.ended() || res.closed()) {
            return;
        }
        res.setStatusCode(reply.status());
        reply.headers().forEach((name, values) -> res.headers().add(name, values));
        if (reply.body() == null) {
            res.end();
        } else {
            res.putHeader(HeaderNames.CONTENT_TYPE, HeaderNames.JSON_UTF8);
            try {
                byte[] bytes = reply.streaming() != null ? reply.streaming().render(reply.body()) : requestIdOnly(reply.body());
                res.end(Buffer.buffer(bytes != null ? bytes : EdgeJson.MAPPER.writeValueAsBytes(reply.body())));
            } catch (IOException e) {
                res.setStatusCode(500).end();
            }
        }
        metrics.request(action, reply.status(), System.nanoTime() - started);
    }

    /** One of {@link #JSON_TYPES}, in any case (media types are case-insensitive). */
    private static boolean isJsonType(String media) {
        for (String type : JSON_TYPES) {
            if (type.equalsIgnoreCase(media)) {
                return true;
            }
        }
        return false;
    }

    private static final byte[] REQUEST_ID_OPEN = "{\"requestId\":\"".getBytes(StandardCharsets.US_ASCII);

    /**
     * The bytes Jackson writes for {@code {"requestId":"…"}} (collect's 202), written directly:
     * the answer is the same but for the id, so building and serializing a tree is skipped. Null for any other
     * body, or an id Jackson would escape.
     */
    static byte[] requestIdOnly(ObjectNode body) {
        if (body.size() != 1 || !(body.get("requestId") instanceof TextNode id)) {
            return null;
        }
        String text = id.textValue();
        byte[] out = Arrays.copyOf(REQUEST_ID_OPEN, REQUEST_ID_OPEN.length + text.length() + 2);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return null;
            }
            out[REQUEST_ID_OPEN.length + i] = (byte) c;
        }
        out[out.length - 2] = '"';
        out[out.length - 1] = '}';
        return out;
    }

    private void respondProblem(HttpServerResponse res, EdgeProblem problem, String requestId, String action, long started) {
        if (problem.error().status() >= 500) {
            long leftOut = serverErrorLines.take(System.nanoTime());
            if (leftOut > 0) {
                log.warn("{} more 5xx answers in the {} s before were not logged one by one (xdmedge_requests_seconds_count counts them)",
                        leftOut, serverErrorLines.windowSeconds());
            }
            if (leftOut >= 0) {
                log.warn("requestId={} action={} answered {}: {}", requestId, action, problem.error().id(),
                        LogSafe.text(problem.detail()));
            }
        } else if (log.isDebugEnabled()) {
            log.debug("requestId={} action={} answered {}: {}", requestId, action, problem.error().id(),
                    LogSafe.text(problem.detail()));
        }
        Problems.send(res, problem, requestId);
        metrics.request(action, problem.error().status(), System.nanoTime() - started);
    }

    /** Answers once the body has been read (and dropped), so the client always gets to see the answer. */
    private void fail(HttpServerRequest req, HttpServerResponse res, EdgeProblem problem, String requestId,
                      String action, long started) {
        discardBody(req, guarded(req, action, started, v -> respondProblem(res, problem, requestId, action, started)));
    }

    private void discardBody(HttpServerRequest req, Handler<Void> then) {
        if (req.isEnded()) {
            then.handle(null);
            return;
        }
        long[] seen = {0};
        req.handler(chunk -> {
            seen[0] += chunk.length();
            if (seen[0] > (long) maxRequestBytes * CappedBody.DISCARD_FACTOR) {
                req.connection().close();
            }
        });
        req.endHandler(then);
        req.exceptionHandler(e -> { });
        req.resume();
    }

    /** Reads the whole body within the limit ({@link CappedBody}). */
    private void readBody(HttpServerRequest req, String requestId, String action, long started,
                          Consumer<byte[]> onBody, Runnable onTooLarge) {
        CappedBody.read(req, maxRequestBytes, requestId, onBody, onTooLarge, e -> unexpected(req, e, action, started));
    }


    /**
     * The request headers as the pipeline sees them: by lower-case name, first value, no cookies
     * (those travel apart). A view, not a copy: a request reads two or three of them, and a copy
     * would touch every header of every request.
     */
    private static Map<String, String> headers(HttpServerRequest req) {
        MultiMap headers = req.headers();
        return new AbstractMap<>() {
            private Map<String, String> copy;

            @Override
            public String get(Object name) {
                return name instanceof String s && !s.equalsIgnoreCase("cookie") ? headers.get(HeaderNames.of(s)) : null;
            }

            @Override
            public boolean containsKey(Object name) {
                return get(name) != null;
            }

            @Override
            public Set<Entry<String, String>> entrySet() {
                if (copy == null) {
                    Map<String, String> out = new LinkedHashMap<>();
                    for (var entry : headers) {
                        String name = entry.getKey().toLowerCase(Locale.ROOT);
                        if (!name.equals("cookie")) {
                            out.putIfAbsent(name, entry.getValue());
                        }
                    }
                    copy = Collections.unmodifiableMap(out);
                }
                return copy.entrySet();
            }
        };
    }

    private static String datastreamParam(MultiMap params) {
        for (String name : new String[] {"datastreamId", "dataStreamId", "configId"}) {
            String value = params.get(name);
            if (value != null) {
                return value;
            }
        }
        return null;
    }
}
