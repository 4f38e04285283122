package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.consent.Consent;
import org.xdmedge.consent.ConsentRecord;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.testing.TestEdge;
import picocli.CommandLine;

/** Forwarding to a real HTTP receiver on loopback that fails on purpose. */
class ForwardingTest {
    private static final String SECRET = "a-signing-secret-for-tests";

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    static String config(String url, int maxEvents) {
        return """
                server: { region: or2, eventLoops: 1 }
                organizations:
                  - id: %s
                destinations:
                  - id: crm
                    type: http
                    url: %s
                    headers: { Authorization: "Bearer ${env:HOME}" }
                    signingSecret: %s
                    batch: { maxEvents: %d, maxDelayMs: 20 }
                    retry: { maxAttempts: 50, maxAgeHours: 1, initialBackoffMs: 5, maxBackoffMs: 40 }
                    timeoutMs: 300
                forwarding: { pollMs: 20 }
                datastreams:
                  - id: ds
                    orgId: %s
                    dataset: web-events
                    forwardTo:
                      - { destination: crm, eventTypes: [commerce.purchases] }
                  - id: other
                    orgId: %s
                    dataset: web-events
                """.formatted(TestEdge.ORG, url, SECRET, maxEvents, TestEdge.ORG, TestEdge.ORG);
    }

    static String event(String id, String type, String ecid) {
        return "{\"events\":[{\"xdm\":{\"_id\":\"" + id + "\",\"eventType\":\"" + type
                + "\",\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\",\"primary\":true}]}}}]}";
    }

    static String ecid(int n) {
        return String.format("%038d", n);
    }

    private TestEdge edge(String yaml) throws Exception {
        TestEdge edge = TestEdge.start(yaml, dir.resolve("data"));
        open.add(edge);
        return edge;
    }

    private void collect(TestEdge edge, String datastream, String id, String type, String ecid) throws Exception {
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=" + datastream, event(id, type, ecid)).statusCode())
                .isEqualTo(202);
    }

    static void await(BooleanSupplier condition, Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + within + ": " + what);
            }
            Thread.sleep(20);
        }
    }

    static String hmac(byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    }

    private String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = XdmEdgeCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        assertThat(err.toString()).as("stderr of %s", String.join(" ", args)).isEmpty();
        assertThat(code).as("exit code; stdout: %s", out).isZero();
        return out.toString();
    }

    @Test
    void everySelectedEventArrivesInOrderThroughFailuresAndRejectedOnesAreDeadLetters() throws Exception {
        FlakyReceiver receiver = new FlakyReceiver((n, ids) -> {
            if (n <= 3) {
                return new FlakyReceiver.Answer(503, 0, "0"); // a burst of 503s
            }
            if (n == 4) {
                // Answered after the client's timeout; not a 2xx, so a batch the client gave up on never
                // counts as delivered however the log's first events were batched.
                return new FlakyReceiver.Answer(503, 1000, null);
            }
            if (n == 5) {
                return FlakyReceiver.Answer.reset();
            }
            if (n == 6) {
                return new FlakyReceiver.Answer(429, 0, "1");
            }
            if (ids.stream().anyMatch(id -> id.startsWith("bad-"))) {
                return FlakyReceiver.Answer.status(400);
            }
            return n % 7 == 0 ? new FlakyReceiver.Answer(200, 150, null) : FlakyReceiver.Answer.ok(); // slow answers
        });
        open.add(receiver);
        String yaml = config(receiver.url(), 5);
        TestEdge edge = edge(yaml);
        List<String> expected = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String type = i % 3 == 0 ? "web.webpagedetails.pageViews" : "commerce.purchases";
            String id = (i % 13 == 5 ? "bad-" : "p-") + i;
            collect(edge, "ds", id, type, ecid(i));
            collect(edge, "other", "o-" + i, "commerce.purchases", ecid(i));
            if (type.equals("commerce.purchases")) {
                (id.startsWith("bad-") ? bad : expected).add(id);
            }
        }
        assertThat(bad).hasSizeGreaterThan(2);
        await(() -> receiver.deliveredOnce().size() >= expected.size()
                && edge.node().forwarding().forwarders().get(0).lagEvents() == 0, Duration.ofSeconds(30),
                "every selected event delivered");

        assertThat(receiver.deliveredOnce()).as("each selected event, in the log's order, nothing else")
                .containsExactlyElementsOf(expected);
        for (FlakyReceiver.Received r : receiver.received()) {
            assertThat(r.header("X-Xdm-Edge-Signature")).isEqualTo(hmac(r.body()));
            assertThat(r.header("Idempotency-Key")).isEqualTo(HttpDestination.idempotencyKey(r.eventIds()));
            assertThat(r.header("Authorization")).isEqualTo("Bearer " + System.getenv("HOME"));
            assertThat(r.header("Content-Type")).isEqualTo("application/json");
            assertThat(r.eventIds().size()).isBetween(1, 5);
        }
        var forwarder = edge.node().forwarding().forwarders().get(0);
        assertThat(forwarder.retried.get()).isGreaterThanOrEqualTo(6);
        assertThat(forwarder.deadLettered.get()).isEqualTo(bad.size());
        assertThat(edge.get("/metrics").body()).contains("xdmedge_forwarding_delivered_total{destination=\"crm\"}")
                .contains("xdmedge_forwarding_lag_events{destination=\"crm\"} 0.0");

        // Dead letters: listed with why, then replayed once the receiver takes them.
        Path config = dir.resolve("edge.yaml");
        Files.writeString(config, yaml);
        String data = dir.resolve("data").toString();
        String listed = cli("destinations", "dead-letters", "list", "--destination", "crm", "--data", data, "--config",
                config.toString());
        for (String id : bad) {
            assertThat(listed).containsPattern(id + "\\s+rejected\\s+400\\s+1");
        }
        assertThat(listed).contains(bad.size() + " dead letters of 'crm'");
        String status = cli("destinations", "status", "--data", data);
        assertThat(status).containsPattern("crm\\s+\\d+\\s+\\d+\\s+0\\s+0\\.0\\s+" + bad.size());

        StringWriter err = new StringWriter();
        CommandLine mistaken = XdmEdgeCommand.commandLine();
        mistaken.setErr(new PrintWriter(err));
        assertThat(mistaken.execute("destinations", "dead-letters", "replay", "--destination", "crn", "--data", data,
                "--config", config.toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("xdm-edge: no destination 'crn' in the configuration; its destinations are: crm"
                + System.lineSeparator());

        receiver.script((n, ids) -> FlakyReceiver.Answer.ok());
        int before = receiver.received().size();
        assertThat(cli("destinations", "dead-letters", "replay", "--destination", "crm", "--data", data, "--config",
                config.toString())).contains("replayed " + bad.size() + " of " + bad.size());
        List<String> replayed = receiver.received().subList(before, receiver.received().size()).stream()
                .flatMap(r -> r.eventIds().stream()).toList();
        assertThat(replayed).containsExactlyElementsOf(bad);
        assertThat(DeadLetterStore.list(dir.resolve("data"), "crm")).isEmpty();
    }

    @Test
    void aRestartSendsAgainAtMostTheBatchInFlightAndSkipsNothing() throws Exception {
        FlakyReceiver receiver = new FlakyReceiver((n, ids) -> new FlakyReceiver.Answer(200, 40, null));
        open.add(receiver);
        String yaml = config(receiver.url(), 4);
        TestEdge edge = edge(yaml);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            collect(edge, "ds", "p-" + i, "commerce.purchases", ecid(i));
            expected.add("p-" + i);
        }
        await(() -> receiver.deliveredOnce().size() >= 20, Duration.ofSeconds(30), "some delivered");
        edge.close();
        open.remove(edge);
        int deliveredBeforeRestart = receiver.deliveredOnce().size();
        assertThat(deliveredBeforeRestart).isLessThan(expected.size());

        TestEdge again = edge(yaml);
        await(() -> receiver.deliveredOnce().size() >= expected.size()
                && again.node().forwarding().forwarders().get(0).lagEvents() == 0, Duration.ofSeconds(30), "all delivered");
        assertThat(receiver.deliveredOnce()).containsExactlyElementsOf(expected);
        List<String> all = receiver.deliveredAll();
        assertThat(all.size() - expected.size()).as("repeats: at most the batch in flight").isLessThanOrEqualTo(4);
        assertThat(PositionFile.read(PositionFile.of(dir.resolve("data"), "crm"))).isEqualTo(80);
    }

    @Test
    void aVisitorWhoOptsOutBeforeDeliveryIsNotForwarded() throws Exception {
        FlakyReceiver receiver = new FlakyReceiver((n, ids) -> FlakyReceiver.Answer.status(503));
        open.add(receiver);
        TestEdge edge = edge(config(receiver.url(), 10));
        for (int i = 0; i < 6; i++) {
            collect(edge, "ds", "in-" + i, "commerce.purchases", ecid(1));
            collect(edge, "ds", "out-" + i, "commerce.purchases", ecid(2));
        }
        await(() -> receiver.received().size() >= 2, Duration.ofSeconds(10), "the destination is tried");
        assertThat(edge.get("/ready").statusCode()).as("a destination down does not make the edge unready").isEqualTo(200);
        // The visitor opts out while the destination is down; stored consent is what forwarding reads.
        edge.node().identityState().put(TestEdge.ORG, ecid(2), ConsentRecord.STATE_KEY,
                new ConsentRecord(Consent.OUT, EdgeJson.MAPPER.createObjectNode(), System.currentTimeMillis())
                        .toJson());
        // An attempt in flight may have read consent before; the second attempt after this line has not.
        int tried = receiver.received().size();
        await(() -> receiver.received().size() >= tried + 2, Duration.ofSeconds(10), "tried again since");
        receiver.script((n, ids) -> FlakyReceiver.Answer.ok());
        await(() -> receiver.deliveredOnce().size() >= 6 && edge.node().forwarding().forwarders().get(0).lagEvents() == 0,
                Duration.ofSeconds(10), "the consenting visitor's events delivered");
        assertThat(receiver.deliveredOnce()).containsExactly("in-0", "in-1", "in-2", "in-3", "in-4", "in-5");
        assertThat(edge.node().forwarding().forwarders().get(0).consentSkipped.get()).isEqualTo(6);
    }

    @Test
    void eventsRetentionMustDeleteBeforeTheyWereSentAreDeadLetters() throws Exception {
        FlakyReceiver receiver = new FlakyReceiver((n, ids) -> FlakyReceiver.Answer.status(503));
        open.add(receiver);
        TestEdge edge = edge(config(receiver.url(), 2));
        for (int i = 0; i < 10; i++) {
            collect(edge, "ds", "p-" + i, "commerce.purchases", ecid(i));
        }
        await(() -> receiver.received().size() >= 2, Duration.ofSeconds(10), "the destination is tried");
        Forwarding forwarding = edge.node().forwarding();
        assertThat(forwarding.neededFrom()).as("retention keeps the first event").isEqualTo(1);
        forwarding.dropping(1, 6); // what retention calls before deleting a segment past forwarding.maxLagBytes
        // A request in flight may still carry a dropped event; the second one from here on does not.
        int tried = receiver.received().size();
        await(() -> receiver.received().size() >= tried + 2, Duration.ofSeconds(10), "tried again since");
        receiver.script((n, ids) -> FlakyReceiver.Answer.ok());
        await(() -> forwarding.forwarders().get(0).lagEvents() == 0, Duration.ofSeconds(10), "caught up");
        assertThat(receiver.deliveredOnce()).containsExactly("p-6", "p-7", "p-8", "p-9");
        var letters = DeadLetterStore.list(dir.resolve("data"), "crm");
        assertThat(letters).extracting(DeadLetterStore.Entry::eventId).containsExactly("p-0", "p-1", "p-2", "p-3", "p-4", "p-5");
        assertThat(letters).extracting(DeadLetterStore.Entry::reason).containsOnly("retention");
        assertThat(forwarding.neededFrom()).isEqualTo(11);
        assertThat(edge.get("/metrics").body()).contains("xdmedge_forwarding_retention_dropped_total{destination=\"crm\"} 6.0");
    }
}
