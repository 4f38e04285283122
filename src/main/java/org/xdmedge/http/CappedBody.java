package org.xdmedge.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.ops.LogSafe;

/**
 * Reads a request's body on its event loop, never holding more than a limit: the edge endpoints'
 * and the privacy API's one body reader. Past the limit the rest is read and dropped (so the client
 * sees the 413) up to {@link #DISCARD_FACTOR} times the limit, then the connection is closed.
 */
final class CappedBody {
    private static final Logger log = LoggerFactory.getLogger(CappedBody.class);
    /** Oversized bodies up to this multiple of the limit are read and discarded so the client sees the 413. */
    static final int DISCARD_FACTOR = 16;
    /**
     * Bodies of a declared length up to this are read into an array of that size, allocated up
     * front; longer ones (and chunked ones) are kept as the chunks that arrive and copied once at
     * their end, so that a client declaring the limit and sending nothing holds no more memory than
     * one that sends this much.
     */
    private static final int PRESIZED_BODY_BYTES = 64 * 1024;

    private CappedBody() {}

    /** The declared {@code Content-Length}, or -1 when there is none or it is not a number. */
    static long declaredLength(HttpServerRequest req) {
        String value = req.getHeader(HeaderNames.CONTENT_LENGTH);
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** True when the declared length is so far over {@code limit} that nothing is read (answer 413, close). */
    static boolean hopeless(long declared, int limit) {
        return declared > (long) limit * DISCARD_FACTOR;
    }

    /**
     * Reads the whole body, then calls {@code onBody} with it, or {@code onTooLarge} when it passed
     * {@code limit}; a throw from either (or from a chunk's handling) goes to {@code onFailure}.
     * Each byte is copied once: with a small declared length (nearly every request) straight into an
     * array of that size, otherwise from the kept chunks into an array of their total size, instead
     * of through a buffer that doubles as it grows.
     */
    static void read(HttpServerRequest req, int limit, String requestId, Consumer<byte[]> onBody, Runnable onTooLarge,
                     Consumer<Throwable> onFailure) {
        long declared = declaredLength(req);
        byte[] exact = declared >= 0 && declared <= Math.min(limit, PRESIZED_BODY_BYTES) ? new byte[(int) declared] : null;
        List<Buffer> chunks = exact == null ? new ArrayList<>() : null;
        boolean[] tooLarge = {false};
        long[] seen = {0};
        req.handler(guarded(onFailure, chunk -> {
            long before = seen[0];
            seen[0] += chunk.length();
            if (tooLarge[0]) {
                if (seen[0] > (long) limit * DISCARD_FACTOR) {
                    req.connection().close();
                }
                return;
            }
            if (seen[0] > limit || (exact != null && seen[0] > exact.length)) {
                tooLarge[0] = true;
                return;
            }
            if (exact != null) {
                chunk.getBytes(0, chunk.length(), exact, (int) before);
            } else {
                chunks.add(chunk);
            }
        }));
        req.endHandler(guarded(onFailure, v -> {
            if (req.response().ended()) {
                return; // answered already (a chunk's handler failed): nothing of this body goes on
            }
            if (tooLarge[0]) {
                onTooLarge.run();
            } else if (exact != null) {
                onBody.accept(seen[0] == exact.length ? exact : Arrays.copyOf(exact, (int) seen[0]));
            } else {
                onBody.accept(joined(chunks, (int) seen[0]));
            }
        }));
        req.exceptionHandler(e -> {
            if (log.isDebugEnabled()) {
                log.debug("requestId={} body read failed: {}", requestId, LogSafe.text(e.getMessage()));
            }
        });
        req.resume();
    }

    private static byte[] joined(List<Buffer> chunks, int length) {
        byte[] body = new byte[length];
        int at = 0;
        for (Buffer chunk : chunks) {
            chunk.getBytes(0, chunk.length(), body, at);
            at += chunk.length();
        }
        return body;
    }

    private static <T> Handler<T> guarded(Consumer<Throwable> onFailure, Handler<T> step) {
        return value -> {
            try {
                step.handle(value);
            } catch (Throwable e) {
                onFailure.accept(e);
            }
        };
    }
}
