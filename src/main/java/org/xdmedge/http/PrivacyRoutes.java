package org.xdmedge.http;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.xdmedge.privacy.AdminTokens;
import org.xdmedge.privacy.JobRequest;
import org.xdmedge.privacy.PrivacyJob;
import org.xdmedge.privacy.PrivacyJobs;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.RequestIds;

/**
 * {@code /privacy/jobs} (docs/PRIVACY.md): bearer tokens checked against {@link AdminTokens},
 * bodies read by {@link CappedBody} (at most {@value #MAX_BODY_BYTES} bytes, else 413) and parsed by
 * {@link JobRequest}, and whatever touches files (recording jobs, reading a download) done on a
 * thread of its own behind a bounded queue (full: 503 with Retry-After), the answer sent back on
 * the request's event loop.
 */
final class PrivacyRoutes {
    static final String PREFIX = "/privacy/";
    static final int MAX_BODY_BYTES = 1 << 20;
    /** File tasks waiting for the thread at most; past it a request is answered 503 at once. */
    static final int MAX_QUEUED_TASKS = 64;
    private static final int RETRY_AFTER_SECONDS = 5;
    private final PrivacyJobs jobs;
    private final AdminTokens tokens;
    private final Executor files;

    PrivacyRoutes(PrivacyJobs jobs, AdminTokens tokens) {
        this(jobs, tokens, fileThread(MAX_QUEUED_TASKS));
    }

    PrivacyRoutes(PrivacyJobs jobs, AdminTokens tokens, Executor files) {
        this.jobs = jobs;
        this.tokens = tokens;
        this.files = files;
    }

    /** One thread taking at most {@code maxQueued} waiting tasks; more are refused ({@link RejectedExecutionException}). */
    static ThreadPoolExecutor fileThread(int maxQueued) {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(maxQueued), r -> {
            Thread t = new Thread(r, "privacy-http");
            t.setDaemon(true);
            return t;
        });
    }

    void handle(HttpServerRequest req) {
        String requestId = RequestIds.answerId(null);
        HttpServerResponse res = req.response().putHeader(HeaderNames.X_REQUEST_ID, requestId);
        switch (tokens.check(req.getHeader("authorization"))) {
            case MISSING -> {
                res.putHeader("www-authenticate", "Bearer");
                Problems.send(res, new EdgeProblem(EdgeError.UNAUTHORIZED,
                        "The privacy API needs an Authorization: Bearer token."), requestId);
                return;
            }
            case WRONG -> {
                Problems.send(res, new EdgeProblem(EdgeError.FORBIDDEN,
                        "This token may not use the privacy API."), requestId);
                return;
            }
            default -> { }
        }
        String[] parts = req.path().substring(PREFIX.length()).split("/", -1);
        if (parts.length == 1 && parts[0].equals("jobs") && req.method() == HttpMethod.POST) {
            submit(req, res, requestId);
        } else if (parts.length == 2 && parts[0].equals("jobs") && req.method() == HttpMethod.GET) {
            status(res, parts[1], requestId);
        } else if (parts.length == 3 && parts[0].equals("jobs") && parts[2].equals("download")
                && req.method() == HttpMethod.GET) {
            download(res, parts[1], requestId);
        } else {
            Problems.send(res, new EdgeProblem(EdgeError.NOT_FOUND, "No such privacy resource: " + req.method()
                    + " " + req.path()), requestId);
        }
    }

    private void submit(HttpServerRequest req, HttpServerResponse res, String requestId) {
        if (CappedBody.hopeless(CappedBody.declaredLength(req), MAX_BODY_BYTES)) {
            res.putHeader("connection", "close");
            Problems.send(res, tooLarge(), requestId);
            req.connection().close();
            return;
        }
        Context context = Vertx.currentContext();
        CappedBody.read(req, MAX_BODY_BYTES, requestId, body -> {
            JobRequest request;
            try {
                request = JobRequest.parse(body);
            } catch (JobRequest.Malformed e) {
                Problems.send(res, EdgeProblem.field(EdgeError.INVALID_FIELD, e.field(), e.getMessage()), requestId);
                return;
            }
            onFileThread(res, requestId, () -> {
                try {
                    return jobs.submit(request);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (PrivacyJobs.QueueFull e) {
                    throw new CompletionException(e);
                }
            }, context, (made, failure) -> {
                if (failure != null) {
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure;
                    Problems.send(res, EdgeProblem.unavailable(cause instanceof PrivacyJobs.QueueFull full
                            ? full.getMessage() + "." : "The jobs could not be recorded.", RETRY_AFTER_SECONDS), requestId);
                    return;
                }
                var doc = EdgeJson.MAPPER.createObjectNode();
                var array = doc.putArray("jobs");
                for (PrivacyJob j : made) {
                    array.addObject().put("jobId", j.jobId()).put("key", j.userKey()).put("action", j.action())
                            .put("status", j.status());
                }
                res.setStatusCode(202).putHeader("content-type", "application/json").end(doc.toString());
            });
        }, () -> Problems.send(res, tooLarge(), requestId), failure -> RequestGuard.unexpected(req, failure));
    }

    private static EdgeProblem tooLarge() {
        return new EdgeProblem(EdgeError.BODY_TOO_LARGE, "A job request is at most " + MAX_BODY_BYTES + " bytes.");
    }

    /**
     * Runs {@code work} on the file thread and hands its outcome to {@code then} on the request's
     * context; a full queue is answered 503 with Retry-After at once.
     */
    private <T> void onFileThread(HttpServerResponse res, String requestId, Supplier<T> work, Context context,
                                  BiConsumer<T, Throwable> then) {
        CompletableFuture<T> done;
        try {
            done = CompletableFuture.supplyAsync(work, files);
        } catch (RejectedExecutionException full) {
            Problems.send(res, EdgeProblem.unavailable("The privacy API is busy; try again later.",
                    RETRY_AFTER_SECONDS), requestId);
            return;
        }
        done.whenComplete((value, failure) -> context.runOnContext(v -> then.accept(value, failure)));
    }

    private void status(HttpServerResponse res, String jobId, String requestId) {
        var job = jobs.get(jobId);
        if (job.isEmpty()) {
            Problems.send(res, new EdgeProblem(EdgeError.NOT_FOUND, "No privacy job " + jobId + "."), requestId);
            return;
        }
        PrivacyJob j = job.get();
        var doc = EdgeJson.MAPPER.createObjectNode().put("jobId", j.jobId()).put("action", j.action())
                .put("status", j.status()).put("regulation", j.regulation());
        if (PrivacyJob.COMPLETE.equals(j.status())) {
            doc.put("events", j.events());
        }
        if (j.delete()) {
            doc.put("reclaimed", j.reclaimed());
        }
        if (j.error() != null) {
            doc.put("error", j.error());
        }
        res.putHeader("content-type", "application/json").end(doc.toString());
    }

    private void download(HttpServerResponse res, String jobId, String requestId) {
        Context context = Vertx.currentContext();
        // Looked up and read on the file thread: the event loop touches no file.
        onFileThread(res, requestId, () -> {
            Path file = jobs.download(jobId);
            try {
                return file == null ? null : Files.readAllBytes(file);
            } catch (IOException e) {
                return null; // removed since: no download
            }
        }, context, (bytes, failure) -> {
            if (failure != null || bytes == null) {
                Problems.send(res, new EdgeProblem(EdgeError.NOT_FOUND, "Privacy job " + jobId
                        + " has no download: it is unknown, not an access job, or not complete."), requestId);
                return;
            }
            res.putHeader("content-type", "application/x-ndjson").end(Buffer.buffer(bytes));
        });
    }
}
