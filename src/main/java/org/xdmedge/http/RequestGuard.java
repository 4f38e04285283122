package org.xdmedge.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.ops.LogBudget;
import org.xdmedge.ops.LogSafe;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.RequestIds;

/**
 * Where a failure nobody foresaw becomes an answer. Every step of a request (the routing, the body's
 * handlers, the pipeline's completion) runs inside it, so an exception thrown anywhere answers 500
 * {@code EXEG-0001-500}, logged once with the request's id, instead of leaving the client waiting
 * for an answer that never comes.
 */
final class RequestGuard {
    private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);
    static final String DETAIL = "The edge failed unexpectedly while handling this request.";
    /** A failure that repeats on every request is logged one by one up to 20 per 10 s, then counted. */
    private static final LogBudget LINES = new LogBudget(20, 10_000_000_000L);

    private RequestGuard() {}

    /**
     * Logs {@code failure} and answers 500 with a problem; when part of an answer is already out the
     * connection is closed instead (the client must not take half an answer for a whole one).
     *
     * @return true when the 500 was sent
     */
    static boolean unexpected(HttpServerRequest req, Throwable failure) {
        HttpServerResponse res = req.response();
        String requestId = res.headers().get(HeaderNames.X_REQUEST_ID);
        if (requestId == null) {
            requestId = RequestIds.answerId(null);
        }
        long leftOut = LINES.take(System.nanoTime());
        if (leftOut > 0) {
            log.error("{} more unexpected failures in the {} s before were not logged one by one", leftOut,
                    LINES.windowSeconds());
        }
        if (leftOut >= 0) {
            log.error("requestId={} unexpected failure handling {} {}", requestId, req.method(), LogSafe.text(req.path()),
                    LogSafe.failure(failure));
        }
        if (res.ended() || res.closed()) {
            return false;
        }
        if (res.headWritten()) {
            req.connection().close();
            return false;
        }
        res.headers().remove("content-length");
        res.headers().remove("content-encoding");
        res.putHeader(HeaderNames.X_REQUEST_ID, requestId);
        Problems.send(res, new EdgeProblem(EdgeError.UNEXPECTED, DETAIL), requestId);
        return true;
    }
}
