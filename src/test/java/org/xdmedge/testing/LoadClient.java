package org.xdmedge.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives an edge with {@code /ee/v2/collect} batches from several threads and remembers, per event
 * id, what the edge said: ids answered 2xx are acknowledged (the edge promised they are durable);
 * batches that failed or got no answer are kept so a test can retry them with the same ids.
 */
public final class LoadClient implements AutoCloseable {
    /** One request: its event ids and its body, so it can be sent again unchanged. */
    public record Batch(List<String> ids, String body) {}

    private final String baseUrl;
    private final int eventsPerRequest;
    private final String idPrefix;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final List<Batch> unanswered = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong acceptedRequests = new AtomicLong();
    private final AtomicLong refusedRequests = new AtomicLong();
    private final AtomicLong failedRequests = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;

    public LoadClient(String baseUrl, int eventsPerRequest, String idPrefix) {
        this.baseUrl = baseUrl;
        this.eventsPerRequest = eventsPerRequest;
        this.idPrefix = idPrefix;
    }

    /** Starts {@code threadCount} senders; each stops after {@code maxRequestsPerThread} or {@link #stop}. */
    public LoadClient start(int threadCount, int maxRequestsPerThread) {
        running = true;
        for (int t = 0; t < threadCount; t++) {
            int thread = t;
            Thread sender = new Thread(() -> {
                for (int n = 0; n < maxRequestsPerThread && running; n++) {
                    Batch batch = batch(idPrefix + "-t" + thread + "-r" + n);
                    if (!send(batch)) {
                        pause(); // the edge is down or refusing: do not spin
                    }
                }
            }, "load-" + idPrefix + "-" + t);
            sender.setDaemon(true);
            sender.start();
            threads.add(sender);
        }
        return this;
    }

    /** Sends one batch; true when it was acknowledged. */
    public boolean send(Batch batch) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/ee/v2/collect?datastreamId=ds"))
                .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(batch.body())).build();
        try {
            HttpResponse<String> res = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() / 100 == 2) {
                acknowledged.addAll(batch.ids());
                acceptedRequests.incrementAndGet();
                return true;
            }
            refusedRequests.incrementAndGet();
        } catch (IOException e) {
            failedRequests.incrementAndGet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failedRequests.incrementAndGet();
        }
        unanswered.add(batch);
        return false;
    }

    /**
     * Retries each distinct batch on its own thread, as separate clients would, every 200 ms until it
     * is acknowledged or {@code bound} has passed since {@code sinceNanos}; returns how long after
     * {@code sinceNanos} the last one was acknowledged ({@code bound} if one never was).
     */
    public Duration retryUntilAcknowledged(List<Batch> batches, long sinceNanos, Duration bound, Executor threads)
            throws InterruptedException, ExecutionException {
        Map<List<String>, Batch> distinct = new LinkedHashMap<>();
        batches.forEach(b -> distinct.putIfAbsent(b.ids(), b));
        List<CompletableFuture<Duration>> answered = distinct.values().stream()
                .map(batch -> CompletableFuture.supplyAsync(() -> retry(batch, sinceNanos, bound), threads))
                .toList();
        Duration slowest = Duration.ZERO;
        for (CompletableFuture<Duration> a : answered) {
            Duration took = a.get();
            slowest = took.compareTo(slowest) > 0 ? took : slowest;
        }
        return slowest;
    }

    private Duration retry(Batch batch, long sinceNanos, Duration bound) {
        while (!send(batch)) {
            if (System.nanoTime() - sinceNanos > bound.toNanos()) {
                return bound;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return bound;
            }
        }
        return Duration.ofNanos(System.nanoTime() - sinceNanos);
    }

    public Batch batch(String requestKey) {
        List<String> ids = new ArrayList<>(eventsPerRequest);
        StringBuilder body = new StringBuilder("{\"events\":[");
        String now = Instant.now().toString();
        // An FPID must be a UUID: one per request key, so each simulated device keeps its own.
        String fpid = UUID.nameUUIDFromBytes(requestKey.getBytes(StandardCharsets.UTF_8)).toString();
        for (int i = 0; i < eventsPerRequest; i++) {
            String id = requestKey + "-e" + i;
            ids.add(id);
            if (i > 0) {
                body.append(',');
            }
            body.append("{\"xdm\":{\"_id\":\"").append(id).append("\",\"eventType\":\"web.webpagedetails.pageViews\",")
                    .append("\"timestamp\":\"").append(now).append("\",")
                    .append("\"web\":{\"webPageDetails\":{\"name\":\"load test page\",\"URL\":\"https://example.test/a/b?c=d\"}},")
                    .append("\"identityMap\":{\"FPID\":[{\"id\":\"").append(fpid).append("\",\"primary\":true}]}},")
                    .append("\"data\":{\"n\":").append(i).append("}}");
        }
        return new Batch(ids, body.append("]}").toString());
    }

    /** Waits (bounded) until at least {@code count} requests were acknowledged. */
    public void awaitAccepted(long count, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (acceptedRequests.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (acceptedRequests.get() < count) {
            throw new AssertionError("only " + acceptedRequests.get() + " of " + count + " requests were accepted in "
                    + timeoutSeconds + " s (refused " + refusedRequests.get() + ", failed " + failedRequests.get() + ")");
        }
    }

    /** Stops the senders and waits (bounded) for their last requests to end. */
    public void stop() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(90));
            if (t.isAlive()) {
                throw new AssertionError("load thread " + t.getName() + " did not stop");
            }
        }
    }

    public Set<String> acknowledged() {
        return Set.copyOf(acknowledged);
    }

    public List<Batch> unanswered() {
        synchronized (unanswered) {
            return List.copyOf(unanswered);
        }
    }

    public long acceptedRequests() {
        return acceptedRequests.get();
    }

    public long refusedRequests() {
        return refusedRequests.get();
    }

    public long failedRequests() {
        return failedRequests.get();
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
