package org.xdmedge.http;

import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.RequestIds;

/**
 * Problem answers for requests refused before the edge handler sees them: HTTP/1 requests the
 * decoder could not read (URI or headers too long, broken framing) and vertx-web routing failures.
 */
final class RouterRefusals {
    private static final Logger log = LoggerFactory.getLogger(RouterRefusals.class);

    private RouterRefusals() {}

    static void answer(RoutingContext rc, EdgeError error, String detail) {
        String requestId = RequestIds.answerId(null);
        if (error == EdgeError.UNEXPECTED) {
            log.error("requestId={} unhandled failure in routing", requestId, rc.failure());
        }
        rc.response().putHeader("x-request-id", requestId);
        Problems.send(rc.response(), new EdgeProblem(error, detail), requestId);
    }

    /** The decoder failed: the connection is closed once this answer is sent. */
    static void invalidRequest(HttpServerRequest request) {
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
