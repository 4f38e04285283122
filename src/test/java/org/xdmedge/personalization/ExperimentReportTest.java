package org.xdmedge.personalization;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.identity.Ecid;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.testing.TestEdge;
import picocli.CommandLine;

/** {@code xdm-edge report} over events sent to the real edge: its counts are the events sent. */
class ExperimentReportTest {
    static final String CONFIG = """
            server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: ds
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                personalization:
                  conversion: { eventType: commerce.purchases }
                  activities:
                    - id: split
                      scope: checkout-offer
                      experiences:
                        - { id: b, weight: 50, items: [ { type: json, content: { v: b } } ] }
                        - { id: a, weight: 50, items: [ { type: json, content: { v: a } } ] }
              - id: other
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
            """;

    @TempDir
    Path dir;

    static String event(String ecid, String eventType, JsonNode propositions, String propositionEventType) {
        String experience = propositions == null ? "" : ",\"_experience\":{\"decisioning\":{\"propositions\":" + propositions
                + ",\"propositionEventType\":{\"" + propositionEventType + "\":1}}}";
        return "{\"event\":{\"xdm\":{\"eventType\":\"" + eventType + "\",\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid
                + "\"}]}" + experience + "}}}";
    }

    static final class Expected {
        long visitors;
        long displays;
        long clicks;
        long conversions;
    }

    @Test
    void theReportCountsWhatWasSent() throws Exception {
        Map<String, Expected> expected = new HashMap<>();
        expected.put("a", new Expected());
        expected.put("b", new Expected());
        try (TestEdge edge = TestEdge.start(CONFIG, dir.resolve("data"))) {
            for (int i = 0; i < 60; i++) {
                String ecid = Ecid.mint();
                String ask = "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\"}]}},"
                        + "\"query\":{\"personalization\":{\"decisionScopes\":[\"checkout-offer\"]}}}}";
                JsonNode p = PersonalizationHttpTest.propositions(edge.postJson("/ee/v2/interact?datastreamId=ds", ask)).get(0);
                Expected x = expected.get(p.at("/scopeDetails/experience/id").asText());
                // What alloy sends back: {id, scope, scopeDetails}.
                JsonNode meta = EdgeJson.MAPPER.createArrayNode().add(EdgeJson.MAPPER.createObjectNode()
                        .put("id", p.get("id").asText()).put("scope", p.get("scope").asText())
                        .set("scopeDetails", p.get("scopeDetails")));
                if (i % 5 == 0) {
                    // A purchase before any display is no conversion.
                    post(edge, "ds", event(ecid, "commerce.purchases", null, null));
                }
                post(edge, "ds", event(ecid, ExperimentReport.DISPLAY, meta, "display"));
                x.visitors++;
                x.displays++;
                if (i % 3 == 0) {
                    post(edge, "ds", event(ecid, ExperimentReport.DISPLAY, meta, "display"));
                    x.displays++;
                    post(edge, "ds", event(ecid, ExperimentReport.INTERACT, meta, "interact"));
                    x.clicks++;
                }
                if (i % 4 == 0) {
                    post(edge, "ds", event(ecid, "commerce.purchases", null, null));
                    post(edge, "ds", event(ecid, "commerce.purchases", null, null)); // a visitor converts once
                    x.conversions++;
                }
                // Another datastream's notifications are not this one's.
                post(edge, "other", event(ecid, ExperimentReport.DISPLAY, meta, "display"));
            }
        }
        Path configFile = dir.resolve("edge.yaml");
        Files.writeString(configFile, CONFIG);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new XdmEdgeCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute("report", "--data", dir.resolve("data").toString(), "--datastream", "ds", "--format", "json",
                        "--config", configFile.toString());
        assertThat(code).as(err.toString()).isZero();
        JsonNode report = EdgeJson.MAPPER.readTree(out.toString());
        assertThat(report.path("activities")).hasSize(1);
        JsonNode activity = report.path("activities").get(0);
        assertThat(activity.path("id").asText()).isEqualTo("split");
        List<String> order = new ArrayList<>();
        for (JsonNode x : activity.path("experiences")) {
            order.add(x.path("id").asText());
            Expected e = expected.get(x.path("id").asText());
            assertThat(x.path("visitors").asLong()).isEqualTo(e.visitors);
            assertThat(x.path("displays").asLong()).isEqualTo(e.displays);
            assertThat(x.path("clicks").asLong()).isEqualTo(e.clicks);
            assertThat(x.path("conversions").asLong()).isEqualTo(e.conversions);
            double rate = (double) e.conversions / e.visitors;
            assertThat(x.path("conversionRate").asDouble()).isCloseTo(rate, Offset.offset(1e-9));
            assertThat(x.path("interval").get(0).asDouble()).isLessThanOrEqualTo(rate);
            assertThat(x.path("interval").get(1).asDouble()).isGreaterThanOrEqualTo(rate);
            assertThat(x.has("lift")).isTrue();
        }
        // The configuration's order: b is the baseline.
        assertThat(order).containsExactly("b", "a");
        assertThat(activity.at("/experiences/0/lift").isNull()).isTrue();

        StringWriter table = new StringWriter();
        new CommandLine(new XdmEdgeCommand()).setOut(new PrintWriter(table))
                .execute("report", "--data", dir.resolve("data").toString(), "--datastream", "ds");
        assertThat(table.toString()).contains("split", "95% interval", "commerce.purchases");
    }

    static void post(TestEdge edge, String datastream, String body) throws Exception {
        var res = edge.postJson("/ee/v2/interact?datastreamId=" + datastream, body);
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    }

    @Test
    void wilsonIntervalAndZTestAgreeWithKnownValues() {
        double[] w = ExperimentReport.wilson(10, 100);
        assertThat(w[0]).isCloseTo(0.0552, Offset.offset(1e-3));
        assertThat(w[1]).isCloseTo(0.1744, Offset.offset(1e-3));
        // 100/1000 against 130/1000: z = 2.10, two-sided p = 0.036.
        assertThat(ExperimentReport.twoProportionP(100, 1000, 130, 1000)).isCloseTo(0.036, Offset.offset(2e-3));
        assertThat(ExperimentReport.normalCdf(1.959964)).isCloseTo(0.975, Offset.offset(1e-6));
    }

    /** One million stored events, a tenth of them notifications, read in a tenth of the budget of ten million (a minute). */
    @Test
    void aMillionEventsAreReadWellWithinTheBudget() throws Exception {
        Path data = dir.resolve("big");
        String[] ecids = new String[20_000];
        for (int i = 0; i < ecids.length; i++) {
            ecids[i] = Ecid.mint();
        }
        try (EventLogStore store = EventLogStore.open(data, EventLogStore.Options.DEFAULTS)) {
            List<CompletableFuture<?>> pending = new ArrayList<>();
            for (int b = 0; b < 1000; b++) {
                List<StoredEvent> batch = new ArrayList<>(1000);
                for (int i = 0; i < 1000; i++) {
                    int n = b * 1000 + i;
                    String ecid = ecids[n % ecids.length];
                    String type = n % 10 == 0 ? ExperimentReport.DISPLAY : n % 97 == 0 ? "commerce.purchases" : "web.webpagedetails.pageViews";
                    String json = "{\"xdm\":{\"_id\":\"e" + n + "\",\"eventType\":\"" + type + "\",\"timestamp\":\"2024-01-01T00:00:00Z\","
                            + "\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\",\"primary\":true}]},"
                            + "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example/products/" + n + "\",\"name\":\"product page\"},"
                            + "\"webReferrer\":{\"URL\":\"https://search.example/?q=shoes\"}},"
                            + "\"device\":{\"screenHeight\":1080,\"screenWidth\":1920},\"environment\":{\"type\":\"browser\"}"
                            + (n % 10 == 0 ? ",\"_experience\":{\"decisioning\":{\"propositions\":[{\"id\":\"p\",\"scope\":\"__view__\","
                            + "\"scopeDetails\":{\"activity\":{\"id\":\"hero\"},\"experience\":{\"id\":\"" + (n % 20 == 0 ? "a" : "b")
                            + "\"}}}],\"propositionEventType\":{\"display\":1}}}" : "")
                            + "}}";
                    batch.add(new StoredEvent("r" + b, "ds", "web-events", 0, "e" + n, "ECID", ecid,
                            json.getBytes(StandardCharsets.UTF_8)));
                }
                pending.add(store.write(batch).toCompletableFuture());
            }
            for (var p : pending) {
                p.get();
            }
        }
        ExperimentReport.run(data, "ds", "commerce.purchases", Map.of()); // the JIT's first pass is not the steady pace
        long start = System.nanoTime();
        JsonNode report = ExperimentReport.run(data, "ds", "commerce.purchases", Map.of());
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("report over 1,000,000 events: " + millis + " ms");
        assertThat(report.path("events").asLong()).isEqualTo(1_000_000);
        assertThat(report.at("/activities/0/experiences/0/displays").asLong()
                + report.at("/activities/0/experiences/1/displays").asLong()).isEqualTo(100_000);
        assertThat(millis).isLessThan(6_000);
    }
}
