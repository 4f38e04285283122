package org.xdmedge.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.privacy.AdminTokens;
import org.xdmedge.privacy.PrivacyJobs;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.store.log.FramePacking;
import org.xdmedge.testing.TestEdge;

/**
 * The privacy API's own limits over loopback HTTP: a job request's body is read within 1 MiB (413
 * past it, whether its length is declared or not), and both of its queues are bounded: a full one
 * answers 503 with Retry-After at once and records nothing. The jobs run on a real store; the
 * jobs thread is held inside a real delete job (its identity-state step waits on a latch), and the
 * file thread by a task the test queues on it.
 */
class PrivacyRoutesTest {
    private static final String TOKEN = "routes-test-token";
    @TempDir
    Path dir;

    private final CountDownLatch forgetting = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private EventLogStore store;
    private PrivacyJobs jobs;
    private ThreadPoolExecutor files;
    private Vertx vertx;
    private int port;

    @BeforeEach
    void start() throws Exception {
        store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS);
        jobs = new PrivacyJobs(dir, Map.of("ds", TestEdge.ORG), (org, ecid) -> {
            forgetting.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, store::requestRoll, FramePacking.LZ4, Duration.ofMinutes(60)).queueLimit(2).start();
        files = PrivacyRoutes.fileThread(2);
        PrivacyRoutes routes = new PrivacyRoutes(jobs, new AdminTokens(java.util.List.of(AdminTokens.sha256Hex(TOKEN))),
                files);
        vertx = Vertx.vertx();
        HttpServer server = vertx.createHttpServer().requestHandler(routes::handle);
        port = server.listen(0, "127.0.0.1").await().actualPort();
    }

    @AfterEach
    void stop() {
        release.countDown();
        files.shutdownNow();
        if (vertx != null) {
            vertx.close().await();
        }
        jobs.close();
        store.close();
    }

    private static String job(String ecid, int users) {
        StringBuilder u = new StringBuilder();
        for (int i = 0; i < users; i++) {
            u.append(i > 0 ? "," : "").append("{\"key\":\"k").append(i).append("\",\"action\":[\"delete\"],")
                    .append("\"userIDs\":[{\"namespace\":\"ECID\",\"value\":\"").append(ecid).append(i)
                    .append("\",\"type\":\"standard\"}]}");
        }
        return "{\"companyContexts\":[{\"namespace\":\"imsOrgID\",\"value\":\"" + TestEdge.ORG + "\"}],\"users\":["
                + u + "],\"regulation\":\"gdpr\"}";
    }

    private HttpResponse<String> post(HttpRequest.BodyPublisher body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/privacy/jobs"))
                .timeout(Duration.ofSeconds(10)).header("authorization", "Bearer " + TOKEN)
                .header("content-type", "application/json").POST(body).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).header("authorization", "Bearer " + TOKEN).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private long recordedJobs() throws IOException {
        try (Stream<Path> f = Files.list(dir.resolve("privacy/jobs"))) {
            return f.filter(p -> p.toString().endsWith(".json")).count();
        }
    }

    private static void assertProblem(HttpResponse<String> res, int status) {
        assertEquals(status, res.statusCode(), res.body());
        assertTrue(res.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"),
                res.headers().toString());
        assertTrue(res.body().contains("\"status\":" + status), res.body());
    }

    @Test
    void aBodyOverTheLimitIs413WhetherItsLengthIsDeclaredOrNot() throws Exception {
        String big = job("1".repeat(PrivacyRoutes.MAX_BODY_BYTES), 1);
        assertProblem(post(HttpRequest.BodyPublishers.ofString(big)), 413);
        // Chunked: no length declared, the reader stops keeping bytes at the limit.
        byte[] bytes = big.getBytes(StandardCharsets.UTF_8);
        assertProblem(post(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(bytes))), 413);
        // Declared far over the limit: answered at once, nothing read, the connection closed.
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /privacy/jobs HTTP/1.1\r\nhost: x\r\nauthorization: Bearer " + TOKEN
                    + "\r\ncontent-type: application/json\r\ncontent-length: " + (64L << 20) + "\r\n\r\n{")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // ends: the server closed
            assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
            assertTrue(answer.contains("application/problem+json"), answer);
        }
        assertEquals(0, recordedJobs());
        // Within the limit the same route takes the job.
        assertEquals(202, post(HttpRequest.BodyPublishers.ofString(job("2", 1))).statusCode());
    }

    @Test
    void aFullJobQueueIs503WithRetryAfterAndRecordsNothing() throws Exception {
        assertEquals(202, post(HttpRequest.BodyPublishers.ofString(job("held", 1))).statusCode());
        assertTrue(forgetting.await(10, TimeUnit.SECONDS), "the first job holds the jobs thread");
        assertEquals(0, jobs.queued());
        assertEquals(202, post(HttpRequest.BodyPublishers.ofString(job("waits", 2))).statusCode());
        assertEquals(2, jobs.queued());
        HttpResponse<String> full = post(HttpRequest.BodyPublishers.ofString(job("refused", 1)));
        assertProblem(full, 503);
        assertEquals("5", full.headers().firstValue("retry-after").orElse(null));
        assertEquals(3, recordedJobs());
        release.countDown();
        jobs.awaitIdle(Duration.ofSeconds(20));
        assertEquals(202, post(HttpRequest.BodyPublishers.ofString(job("later", 1))).statusCode());
    }

    @Test
    void aFullFileQueueIs503WithRetryAfter() throws Exception {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        for (int i = 0; i < 3; i++) { // one running, two waiting: the queue is full
            files.execute(() -> {
                running.countDown();
                try {
                    busy.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertTrue(running.await(10, TimeUnit.SECONDS));
        HttpResponse<String> submit = post(HttpRequest.BodyPublishers.ofString(job("x", 1)));
        assertProblem(submit, 503);
        assertEquals("5", submit.headers().firstValue("retry-after").orElse(null));
        HttpResponse<String> download = get("/privacy/jobs/some-job/download");
        assertProblem(download, 503);
        assertEquals(0, recordedJobs());
        busy.countDown();
        // The three tasks end on the file thread after the latch opens: wait until it is idle again.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((files.getActiveCount() > 0 || !files.getQueue().isEmpty()) && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertEquals(202, post(HttpRequest.BodyPublishers.ofString(job("x", 1))).statusCode());
    }
}
