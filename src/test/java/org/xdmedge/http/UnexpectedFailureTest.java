package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.xdmedge.auth.Authenticator;
import org.xdmedge.auth.Credentials;
import org.xdmedge.auth.Principal;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.consent.ConsentCounter;
import org.xdmedge.consent.ConsentLedger;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.identity.FpidSeeder;
import org.xdmedge.ops.EdgeMetrics;
import org.xdmedge.pipeline.EdgeService;
import org.xdmedge.ratelimit.RateLimiter;
import org.xdmedge.state.InMemoryIdentityStateStore;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.testing.TestEdge;

/**
 * A failure nobody foresaw, thrown after the body was read (on the event loop, or on another thread
 * in a continuation of the pipeline), is answered 500 {@code EXEG-0001-500} with the every-answer
 * headers and logged once with its request id; the listener goes on. The failures are injected
 * through the one part a test can make fail on cue, the authenticator; everything else is real.
 */
class UnexpectedFailureTest {
    @TempDir
    Path dir;

    private EventLogStore store;
    private ConsentLedger consent;
    private EdgeHttpServer server;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    /** Fails as its API key says: at once on the caller's thread, or later on another thread. */
    static final class FailingAuthenticator implements Authenticator {
        @Override
        public CompletionStage<Principal> authenticate(Credentials credentials, String requestId) {
            return switch (credentials.apiKey()) {
                case "throw-now" -> throw new NullPointerException("thrown on the event loop");
                case "fail-later" -> CompletableFuture.supplyAsync(() -> {
                    throw new IllegalStateException("thrown on another thread");
                });
                case "pass-later-then-throw" -> CompletableFuture.supplyAsync(
                        () -> new Principal(TestEdge.ORG, "pass-later-then-throw", Set.of()))
                        .thenApply(p -> {
                            throw new ArrayIndexOutOfBoundsException("thrown in a continuation\r\nforged line");
                        });
                default -> CompletableFuture.completedFuture(new Principal(TestEdge.ORG, credentials.apiKey(), Set.of()));
            };
        }
    }

    @BeforeEach
    void start() throws Exception {
        var config = new ConfigLoader().parse(TestEdge.BASIC_CONFIG, "test");
        store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS.queueCapacity(64).maxRequestsPerCommit(16));
        consent = new ConsentLedger(new InMemoryIdentityStateStore(), 1, ConsentLedger.DEFAULT_QUEUE_CAPACITY, 1);
        EdgeService service = new EdgeService(new DatastreamRegistry(config), store, "or2", consent, FpidSeeder.NONE,
                ConsentCounter.NONE, new FailingAuthenticator(), RateLimiter.unlimited());
        server = EdgeHttpServer.start(new EdgeHttpServer.Settings("127.0.0.1", 0, 1, 65536, "or2"), service,
                new EdgeMetrics(), () -> true);
        appender.start();
        root.addAppender(appender);
    }

    @AfterEach
    void stop() {
        root.detachAppender(appender);
        if (server != null) {
            server.close();
        }
        if (consent != null) {
            consent.close();
        }
        if (store != null) {
            store.close();
        }
    }

    @Test
    void everyUnforeseenFailureIsA500LoggedOnce() throws Exception {
        for (String mode : new String[] {"throw-now", "fail-later", "pass-later-then-throw"}) {
            for (String path : new String[] {"/ee/v2/collect", "/ee/v2/interact"}) {
                String body = path.endsWith("collect") ? CollectEndpointTest.event("e", "u")
                        : "{\"event\":" + CollectEndpointTest.eventObject("e", "u") + "}";
                HttpResponse<String> res = client.send(HttpRequest.newBuilder(uri(path + "?datastreamId=ds"))
                        .timeout(Duration.ofSeconds(10))
                        .header("content-type", "application/json").header("origin", "https://shop.example.test")
                        .header("authorization", "Bearer a.b.c").header("x-api-key", mode)
                        .header("x-gw-ims-org-id", TestEdge.ORG)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                JsonNode problem = RequestGuardTest.problem(res, 500, "0001");
                assertThat(res.headers().firstValue("access-control-allow-origin")).hasValue("https://shop.example.test");
                String requestId = problem.get("report").get("requestId").asText();
                List<ILoggingEvent> lines = linesNaming(requestId);
                assertThat(lines).as(mode + " " + path).hasSize(1);
                assertThat(lines.get(0).getLevel()).isEqualTo(Level.ERROR);
                assertThat(lines.get(0).getThrowableProxy()).isNotNull();
                assertThat(lines.get(0).getThrowableProxy().getMessage()).doesNotContain("\n").doesNotContain("\r");
            }
        }
        // The listener and the pipeline carry on.
        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(uri("/ee/v2/collect?datastreamId=ds"))
                .timeout(Duration.ofSeconds(10)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(CollectEndpointTest.event("after", "u"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);
    }

    private List<ILoggingEvent> linesNaming(String requestId) throws InterruptedException {
        Thread.sleep(100); // the line is written before the answer; this only lets a second one show
        synchronized (appender) {
            return appender.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN) && e.getFormattedMessage().contains(requestId))
                    .toList();
        }
    }

    private URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + server.port() + pathAndQuery);
    }
}
