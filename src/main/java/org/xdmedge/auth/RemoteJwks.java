package org.xdmedge.auth;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key set an organization publishes at a URL, cached. Fetches never run on the caller's thread:
 * the JDK client sends and collects the body asynchronously; it is parsed on {@code executor}. At most one fetch is
 * in flight; an unknown {@code kid} causes a fetch only when the last one is older than
 * {@code minRefresh}, so tokens with made-up kids cannot turn the edge into a fetch amplifier.
 * A failed fetch keeps the keys already held; a successful one replaces them (keys can be revoked).
 */
final class RemoteJwks {
    private static final Logger log = LoggerFactory.getLogger(RemoteJwks.class);
    static final int MAX_BYTES = 1024 * 1024;

    private final String orgId;
    private final URI uri;
    private final HttpClient client;
    private final Executor executor;
    private final Duration timeout;
    private final long cacheNanos;
    private final long minRefreshNanos;
    private final LongSupplier nanoTime;
    private final AtomicReference<CompletableFuture<List<VerificationKey>>> inFlight = new AtomicReference<>();
    private volatile List<VerificationKey> keys = List.of();
    private volatile long fetchedAt;
    private volatile boolean fetched;
    private volatile long attemptedAt;
    private volatile boolean attempted;

    RemoteJwks(String orgId, URI uri, HttpClient client, Executor executor, Duration timeout, Duration cache,
               Duration minRefresh, LongSupplier nanoTime) {
        this.orgId = orgId;
        this.uri = uri;
        this.client = client;
        this.executor = executor;
        this.timeout = timeout;
        this.cacheNanos = cache.toNanos();
        this.minRefreshNanos = minRefresh.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Fetches once at start-up (off the event loop); a failure is logged and retried on demand. */
    void loadAtStart() {
        try {
            refresh(null).get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("org={} JWKS {} not loaded at start ({}); it will be fetched when a token needs it",
                    orgId, shown(), e.getClass().getSimpleName());
        }
    }

    /** The keys held now. When they are older than the cache time a background fetch starts. */
    List<VerificationKey> keys(String requestId) {
        long now = nanoTime.getAsLong();
        if ((!fetched || now - fetchedAt > cacheNanos) && mayFetch(now)) {
            refresh(requestId);
        }
        return keys;
    }

    /** Completes (never exceptionally) with the keys after a fetch, if one is allowed now; else with the keys held. */
    CompletableFuture<List<VerificationKey>> refreshForUnknownKid(String requestId) {
        CompletableFuture<List<VerificationKey>> running = inFlight.get();
        if (running != null) {
            return running;
        }
        if (!mayFetch(nanoTime.getAsLong())) {
            return CompletableFuture.completedFuture(keys);
        }
        return refresh(requestId);
    }

    private boolean mayFetch(long now) {
        return !attempted || now - attemptedAt >= minRefreshNanos;
    }

    private CompletableFuture<List<VerificationKey>> refresh(String requestId) {
        CompletableFuture<List<VerificationKey>> mine = new CompletableFuture<>();
        CompletableFuture<List<VerificationKey>> running = inFlight.compareAndExchange(null, mine);
        if (running != null) {
            return running;
        }
        attemptedAt = nanoTime.getAsLong();
        attempted = true;
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).header("accept", "application/json").GET().build();
        client.sendAsync(request, LimitedBody.handler(MAX_BYTES))
                .thenApplyAsync(RemoteJwks::read, executor)
                .orTimeout(timeout.toMillis() * 2, TimeUnit.MILLISECONDS)
                .whenComplete((loaded, failure) -> {
                    String who = requestId == null ? "" : "requestId=" + requestId + " ";
                    if (failure == null) {
                        keys = loaded;
                        fetchedAt = nanoTime.getAsLong();
                        fetched = true;
                        log.info("{}org={} JWKS {} loaded: {} usable keys", who, orgId, shown(), loaded.size());
                    } else {
                        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                        log.warn("{}org={} JWKS fetch from {} failed ({}: {}); keeping {} cached keys", who, orgId,
                                shown(), cause.getClass().getSimpleName(), cause.getMessage(), keys.size());
                    }
                    inFlight.set(null);
                    mine.complete(keys);
                });
        return mine;
    }

    private static List<VerificationKey> read(HttpResponse<byte[]> response) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException("status " + response.statusCode());
        }
        return JwksKeys.parseLenient(new String(response.body(), StandardCharsets.UTF_8));
    }

    /** The URL without user info, query or fragment, which might carry a secret. */
    private String shown() {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getPath() == null ? "" : uri.getPath());
    }
}
