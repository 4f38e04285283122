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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
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
 * bodies parsed by {@link JobRequest}, and whatever touches files (recording jobs, reading a
 * download) done on a small pool of its own, the answer sent back on the request's event loop.
 */
final class PrivacyRoutes {
    static final String PREFIX = "/privacy/";
    private static final int MAX_BODY_BYTES = 1 << 20;
    private final PrivacyJobs jobs;
    private final AdminTokens tokens;
    private final Executor files = Executors.newFixedThreadPool(1, r -> {
        Thread t = new Thread(r, "privacy-http");
        t.setDaemon(true);
        return t;
    });

    PrivacyRoutes(PrivacyJobs jobs, AdminTokens tokens) {
        this.jobs = jobs;
        this.tokens = tokens;
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
        String length = req.getHeader("content-length");
        if (length != null && (!length.matches("[0-9]{1,12}") || Long.parseLong(length) > MAX_BODY_BYTES)) {
            res.putHeader("connection", "close");
            Problems.send(res, new EdgeProblem(EdgeError.BODY_TOO_LARGE, "A job request is at most 1 MiB."), requestId);
            return;
        }
        Context context = Vertx.currentContext();
        req.body().onComplete(body -> {
            if (body.failed()) {
                Problems.send(res, new EdgeProblem(EdgeError.MALFORMED_REQUEST, "The body could not be read."), requestId);
                return;
            }
            Buffer buffer = body.result();
            if (buffer.length() > MAX_BODY_BYTES) {
                Problems.send(res, new EdgeProblem(EdgeError.BODY_TOO_LARGE, "A job request is at most 1 MiB."), requestId);
                return;
            }
            JobRequest request;
            try {
                request = JobRequest.parse(buffer.getBytes());
            } catch (JobRequest.Malformed e) {
                Problems.send(res, EdgeProblem.field(EdgeError.INVALID_FIELD, e.field(), e.getMessage()), requestId);
                return;
            }
            CompletableFuture.supplyAsync(() -> {
                try {
                    return jobs.submit(request);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, files).whenComplete((made, failure) -> context.runOnContext(v -> {
                if (failure != null) {
                    Problems.send(res, EdgeProblem.unavailable("The jobs could not be recorded.", 5), requestId);
                    return;
                }
                var doc = EdgeJson.MAPPER.createObjectNode();
                var array = doc.putArray("jobs");
                for (PrivacyJob j : made) {
                    array.addObject().put("jobId", j.jobId()).put("key", j.userKey()).put("action", j.action())
                            .put("status", j.status());
                }
                res.setStatusCode(202).putHeader("content-type", "application/json").end(doc.toString());
            }));
        });
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
        CompletableFuture.supplyAsync(() -> {
            Path file = jobs.download(jobId);
            try {
                return file == null ? null : Files.readAllBytes(file);
            } catch (IOException e) {
                return null; // removed since: no download
            }
        }, files).whenComplete((bytes, failure) -> context.runOnContext(v -> {
            if (failure != null || bytes == null) {
                Problems.send(res, new EdgeProblem(EdgeError.NOT_FOUND, "Privacy job " + jobId
                        + " has no download: it is unknown, not an access job, or not complete."), requestId);
                return;
            }
            res.putHeader("content-type", "application/x-ndjson").end(Buffer.buffer(bytes));
        }));
    }
}
