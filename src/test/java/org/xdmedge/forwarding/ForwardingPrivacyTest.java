package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.privacy.AdminTokens;
import org.xdmedge.testing.TestEdge;

/**
 * Forwarding and privacy deletes: an event a delete job removed before a destination had it is
 * never sent to it, neither from what the forwarder has yet to read nor from a batch it holds
 * while the destination is down. A real receiver on loopback, the real store and jobs API.
 */
class ForwardingPrivacyTest {
    private static final String TOKEN = "forwarding-privacy-token";

    @TempDir
    Path dir;

    private FlakyReceiver receiver;
    private TestEdge edge;

    @AfterEach
    void closeAll() throws Exception {
        if (edge != null) {
            edge.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    private static String config(String url) {
        // Batches of 4 and a long wait for a full one: the first batch is the first four events.
        return ForwardingTest.config(url, 4).replace("maxDelayMs: 20", "maxDelayMs: 2000") + """
                privacy:
                  adminTokens: [%s]
                  reclaimMinutes: 60
                """.formatted(AdminTokens.sha256Hex(TOKEN));
    }

    private void collect(String id, int person) throws Exception {
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds",
                ForwardingTest.event(id, "commerce.purchases", ForwardingTest.ecid(person))).statusCode()).isEqualTo(202);
    }

    private void deleteAndAwait(int person) throws Exception {
        String job = """
                {"companyContexts":[{"namespace":"imsOrgID","value":"%s"}],
                 "users":[{"key":"k","action":["delete"],"userIDs":[{"namespace":"ECID","value":"%s","type":"standard"}]}],
                 "regulation":"gdpr"}""".formatted(TestEdge.ORG, ForwardingTest.ecid(person));
        HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/privacy/jobs"))
                .header("authorization", "Bearer " + TOKEN).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(job)));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(202);
        String jobId = TestEdge.json(res.body()).get("jobs").get(0).get("jobId").asText();
        ForwardingTest.await(() -> {
            try {
                String status = edge.send(HttpRequest.newBuilder(edge.uri("/privacy/jobs/" + jobId))
                        .header("authorization", "Bearer " + TOKEN).GET()).body();
                return status.contains("\"status\":\"complete\"");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, Duration.ofSeconds(20), "the delete job completes");
    }

    @Test
    void anEventDeletedBeforeItWasForwardedIsNeverSent() throws Exception {
        receiver = new FlakyReceiver((n, ids) -> FlakyReceiver.Answer.status(503));
        edge = TestEdge.start(config(receiver.url()), dir.resolve("data"));
        for (int i = 0; i < 6; i++) {
            collect("keep-" + i, 1);
            collect("gone-" + i, 2);
        }
        // The destination is down: the forwarder holds a batch (of both people's events) and retries it.
        ForwardingTest.await(() -> receiver.received().size() >= 2, Duration.ofSeconds(10), "the destination is tried");
        assertThat(receiver.received().get(0).eventIds()).containsExactly("keep-0", "gone-0", "keep-1", "gone-1");
        deleteAndAwait(2);
        receiver.script((n, ids) -> FlakyReceiver.Answer.ok());
        Forwarder forwarder = edge.node().forwarding().forwarders().get(0);
        // (The lag stays above 0 until the next event: the log's last events are deleted ones.)
        ForwardingTest.await(() -> receiver.deliveredOnce().size() >= 6, Duration.ofSeconds(10),
                "the other person's events delivered");
        // Events collected after the delete go as usual, the deleted person's new ones too.
        collect("after-1", 1);
        collect("after-2", 2);
        ForwardingTest.await(() -> receiver.deliveredOnce().size() >= 8 && forwarder.lagEvents() == 0,
                Duration.ofSeconds(10), "events after the delete delivered");
        assertThat(receiver.deliveredOnce()).containsExactly("keep-0", "keep-1", "keep-2", "keep-3", "keep-4", "keep-5",
                "after-1", "after-2");
        assertThat(receiver.received()).filteredOn(r -> r.status() == 200)
                .allSatisfy(r -> assertThat(r.eventIds()).noneMatch(id -> id.startsWith("gone-")));
    }
}
