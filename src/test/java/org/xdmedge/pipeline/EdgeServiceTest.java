package org.xdmedge.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xdmedge.auth.JwtAuthenticator;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.consent.ConsentCounter;
import org.xdmedge.consent.ConsentLedger;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.identity.FpidSeeder;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.protocol.EdgeAction;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.ratelimit.RateLimiter;
import org.xdmedge.state.InMemoryIdentityStateStore;
import org.xdmedge.testing.Fixtures;

/** The pipeline driven with plain values: no HTTP server, an in-memory sink and state store. */
class EdgeServiceTest {
    private static final String ORG = "ABC123@AdobeOrg";
    private static final String CONFIG = """
            organizations:
              - id: ABC123@AdobeOrg
            datastreams:
              - id: ds
                orgId: ABC123@AdobeOrg
                dataset: web-events
              - id: waits
                orgId: ABC123@AdobeOrg
                dataset: web-events
                consent:
                  default: pending
            """;

    private final MemorySink sink = new MemorySink();
    private final ConsentLedger consent = new ConsentLedger(new InMemoryIdentityStateStore(), 1,
            ConsentLedger.DEFAULT_QUEUE_CAPACITY, 1);
    private final EdgeService service;

    EdgeServiceTest() throws Exception {
        EdgeConfig config = new ConfigLoader().parse(CONFIG, "test");
        service = new EdgeService(new DatastreamRegistry(config), sink, "or2", consent, FpidSeeder.NONE,
                ConsentCounter.NONE, JwtAuthenticator.refuseAll(), RateLimiter.unlimited());
    }

    @AfterEach
    void close() {
        consent.close();
    }

    @Test
    void collectStoresEveryEventWithItsPrimaryIdentityAndAnswers202() throws Exception {
        EdgeReply reply = call(EdgeAction.V2_COLLECT, "ds", Fixtures.seed("collect-two-fpid-events.json"));

        assertThat(reply.status()).isEqualTo(202);
        assertThat(reply.body().get("requestId").asText()).isEqualTo("req-1");
        assertThat(sink.written).hasSize(2);
        assertThat(sink.written).allSatisfy(e -> {
            assertThat(e.datastreamId()).isEqualTo("ds");
            assertThat(e.dataset()).isEqualTo("web-events");
            assertThat(e.requestId()).isEqualTo("req-1");
        });
        assertThat(sink.written.get(0).primaryId()).isEqualTo("79bf8e83-f708-414b-b1ed-5789ff33bf0b");
        assertThat(new String(sink.written.get(0).eventJson(), StandardCharsets.UTF_8)).contains("\"prop1\":\"custom value\"");
    }

    @Test
    void interactMintsAnEcidStoresTheEventAndReportsItInAReceipt() throws Exception {
        EdgeReply reply = call(EdgeAction.V2_INTERACT, "ds",
                "{\"event\":{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"}},"
                        + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}");

        assertThat(reply.status()).isEqualTo(200);
        JsonNode ecid = handle(reply, "identity:result").get(0);
        assertThat(ecid.get("namespace").get("code").asText()).isEqualTo("ECID");
        assertThat(ecid.get("id").asText()).matches("[0-9]{38}");
        JsonNode receipt = handle(reply, EdgeService.EVENT_RECEIPT).get(0);
        assertThat(receipt.get("stored").asBoolean()).isTrue();
        assertThat(sink.written).hasSize(1);
        assertThat(sink.written.get(0).primaryNamespace()).isEqualTo("ECID");
        assertThat(sink.written.get(0).primaryId()).isEqualTo(ecid.get("id").asText());
        assertThat(receipt.get("eventId").asText()).isEqualTo(sink.written.get(0).eventId());
    }

    @Test
    void pendingConsentStoresNothingAndWarns() throws Exception {
        EdgeReply reply = call(EdgeAction.V2_INTERACT, "waits", "{\"event\":{\"xdm\":{}}}");

        assertThat(reply.status()).isEqualTo(200);
        assertThat(sink.written).isEmpty();
        assertThat(reply.body().get("warnings").get(0).get("status").asInt())
                .isEqualTo(EdgeError.CONSENT_IGNORED.status());
        JsonNode receipt = handle(reply, EdgeService.EVENT_RECEIPT).get(0);
        assertThat(receipt.get("stored").asBoolean()).isFalse();
        assertThat(receipt.get("reason").asText()).isEqualTo("consent-pending");
    }

    @Test
    void aRetriedCallerRequestIdYieldsTheSameEventIds() throws Exception {
        String body = "{\"event\":{\"xdm\":{}}}";
        call(EdgeAction.V2_INTERACT, "ds", body, "caller-7");
        call(EdgeAction.V2_INTERACT, "ds", body, "caller-7");

        assertThat(sink.written).hasSize(2);
        assertThat(sink.written.get(0).eventId()).isEqualTo(sink.written.get(1).eventId());
        assertThat(sink.written.get(0).mintedId()).isFalse();
        assertThat(sink.duplicates).isEqualTo(1);
    }

    @Test
    void anUnknownDatastreamIsRefusedAndNothingIsStored() {
        assertThatThrownBy(() -> call(EdgeAction.V2_COLLECT, "nope", Fixtures.seed("collect-two-fpid-events.json")))
                .isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.error().status()).isEqualTo(400));
        assertThat(sink.written).isEmpty();
    }

    @Test
    void aBadBodyNamesTheFieldAndStoresNothing() {
        assertThatThrownBy(() -> call(EdgeAction.V2_COLLECT, "ds", "{\"events\":3}"))
                .isInstanceOfSatisfying(EdgeProblem.class, p -> assertThat(p.fieldErrors())
                        .anySatisfy(f -> assertThat(f.path()).isEqualTo("events")));
        assertThat(sink.written).isEmpty();
    }

    @Test
    void aFullSinkBecomesA503WithRetryAfter() {
        sink.unavailable = true;
        assertThatThrownBy(() -> call(EdgeAction.V2_COLLECT, "ds", Fixtures.seed("collect-two-fpid-events.json")))
                .isInstanceOfSatisfying(EdgeProblem.class, p -> {
                    assertThat(p.error().status()).isEqualTo(503);
                    assertThat(p.retryAfterSeconds()).isEqualTo(3);
                });
    }

    private EdgeReply call(EdgeAction action, String datastream, String body) throws Exception {
        return call(action, datastream, body, null);
    }

    private EdgeReply call(EdgeAction action, String datastream, String body, String callerRequestId) throws Exception {
        EdgeCall call = new EdgeCall(action, null, "req-1", callerRequestId, datastream, false, List.of(),
                Map.of(), body.getBytes(StandardCharsets.UTF_8), System.currentTimeMillis());
        try {
            return service.handle(call).toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
            throw cause instanceof Exception ex ? ex : e;
        }
    }

    private static JsonNode handle(EdgeReply reply, String type) {
        for (JsonNode handle : reply.body().get("handle")) {
            if (handle.get("type").asText().equals(type)) {
                return handle.get("payload");
            }
        }
        throw new AssertionError("no handle " + type + " in " + reply.body());
    }

    /** Keeps what it is given in memory; counts an id it already holds as a duplicate, as every outlet does. */
    private static final class MemorySink implements EventSink {
        final List<StoredEvent> written = new ArrayList<>();
        final Set<String> ids = new HashSet<>();
        int duplicates;
        volatile boolean unavailable;

        @Override
        public synchronized CompletionStage<WriteResult> write(List<StoredEvent> events) {
            if (unavailable) {
                return CompletableFuture.failedFuture(new SinkUnavailableException("queue full", 3));
            }
            int dup = 0;
            for (StoredEvent e : events) {
                written.add(e);
                if (!ids.add(e.datastreamId() + "\n" + e.eventId())) {
                    dup++;
                }
            }
            duplicates += dup;
            return CompletableFuture.completedFuture(new WriteResult(events.size() - dup, dup));
        }

        @Override
        public boolean ready() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
