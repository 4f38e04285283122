package org.xdmedge.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.xdmedge.quality.QualityFixtures.batch;
import static org.xdmedge.quality.QualityFixtures.byEventId;
import static org.xdmedge.quality.QualityFixtures.event;
import static org.xdmedge.quality.QualityFixtures.sha256;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xdmedge.StartupException;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.store.log.EventReader;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** Schemas, mapping and quarantine, over HTTP against the real edge and its store. */
class DataQualityTest extends EdgeHttpTest {
    @Override
    protected String config() {
        String schema = QualityFixtures.schema().toString();
        return """
                server: { region: or2, maxRequestBytes: 262144, eventLoops: 2 }
                organizations:
                  - id: %1$s
                datastreams:
                  - id: shop
                    orgId: %1$s
                    dataset: web-events
                    schema: %2$s
                    mapping:
                      - { from: data.prop1, to: xdm._acme.campaign }
                      - { from: data.email, to: "xdm.identityMap.Email_LC_SHA256[0].id", fn: sha256, lower: true }
                  - id: strict
                    orgId: %1$s
                    dataset: web-events
                    schema: %2$s
                    invalidEvents: reject
                  - id: mapped
                    orgId: %1$s
                    dataset: mapped-events
                    mapping:
                      - { from: data.name, to: xdm.web.webPageDetails.name }
                      - { from: data.country, to: xdm.placeContext.geo.countryCode, fn: upper }
                      - { from: data.section, to: xdm.web.webPageDetails.siteSection, fn: lower }
                      - { from: data.padded, to: xdm._acme.campaign, fn: trim }
                      - { from: data.total, to: xdm.commerce.order.priceTotal, fn: toNumber }
                      - { from: data.home, to: xdm.web.webPageDetails.isHomePage, fn: toBoolean }
                      - { from: data.email, to: "xdm.identityMap.Email_LC_SHA256[0].id", fn: sha256, lower: true }
                      - { from: data.phone, to: "xdm.identityMap.Phone_SHA256[0].id", fn: sha256 }
                      - { from: [data.first, data.last], to: xdm._acme.fullName, fn: concat, separator: " " }
                      - { from: data.channel, to: xdm.channel.typeAtSource, default: web }
                      - { from: data.when, to: xdm._acme.visitedAt, fn: date, format: "dd/MM/yyyy HH:mm", zone: Europe/Paris }
                      - { from: data.placed, to: xdm.commerce.order.createdDate, fn: date, format: epochMillis }
                      - { from: xdm.eventType, to: xdm._acme.kind, fn: upper }
                  - id: plain
                    orgId: %1$s
                    dataset: plain-events
                """.formatted(QualityFixtures.ORG, schema);
    }

    @Test
    void validEventsAreMappedThenStoredInTheirDataset() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=shop", batch(
                event("e-1", "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example/\",\"name\":\"home\"}}",
                        "{\"prop1\":\"spring-sale\",\"email\":\" Jane.Doe@Example.com \"}"),
                event("e-2", "\"commerce\":{\"order\":{\"priceTotal\":12.5,\"currencyCode\":\"EUR\"},\"purchases\":{\"value\":1}}", null)));

        assertThat(res.statusCode()).isEqualTo(202);
        List<JsonNode> stored = TestEdge.exported(dir, "web-events");
        assertThat(stored).hasSize(2);
        JsonNode first = byEventId(stored, "e-1").get("event");
        assertThat(first.at("/xdm/_acme/campaign").asText()).isEqualTo("spring-sale");
        assertThat(first.at("/xdm/identityMap/Email_LC_SHA256/0/id").asText()).isEqualTo(sha256("jane.doe@example.com"));
        assertThat(first.at("/xdm/identityMap/CRMID/0/id").asText()).isEqualTo("user-1");
        assertThat(first.at("/data/prop1").asText()).isEqualTo("spring-sale");
        assertThat(byEventId(stored, "e-2").at("/event/xdm/commerce/order/priceTotal").asDouble()).isEqualTo(12.5);
        assertThat(TestEdge.exported(dir, "quarantine")).isEmpty();
    }

    @Test
    void theClientsBytesAreStoredWhereTheRulesDidNotWrite() throws Exception {
        // An escape and spaces show whose bytes were stored: written again, the tree has neither.
        String untouched = event("b-1", "\"web\":{\"webPageDetails\":{\"name\": \"caf\\u00e9\"}}", "{\"other\": \"x\\u00e9\"}");
        String mapped = event("b-2", "\"web\":{\"webPageDetails\":{\"name\": \"caf\\u00e9\"}}", "{\"prop1\": \"caf\\u00e9\"}");
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=shop", batch(untouched, mapped)).statusCode()).isEqualTo(202);

        Map<String, String> stored = new HashMap<>();
        EventReader.forEach(dir, null, e -> stored.put(e.eventId(), new String(e.eventJson(), StandardCharsets.UTF_8)));
        String sentXdm = untouched.substring(untouched.indexOf(":") + 1, untouched.indexOf(",\"data\":"));
        assertThat(stored.get("b-1")).isEqualTo("{\"xdm\":" + sentXdm + ",\"data\":{\"other\": \"x\\u00e9\"}}");
        assertThat(stored.get("b-2"))
                .contains("\"webPageDetails\":{\"name\":\"caf\u00e9\"}", "\"_acme\":{\"campaign\":\"caf\u00e9\"}")
                .endsWith(",\"data\":{\"prop1\": \"caf\\u00e9\"}}");
    }

    @Test
    void aMixedBatchStoresTheValidAndQuarantinesTheRestAsSentWithTheirReasons() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=shop", batch(
                event("ok-1", "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example/a\"}}", "{\"prop1\":\"x\"}"),
                event("bad-url", "\"web\":{\"webPageDetails\":{\"URL\":5}}", "{\"prop1\":\"y\"}"),
                event("bad-env", "\"environment\":{\"type\":\"car\"}", null)));

        assertThat(res.statusCode()).isEqualTo(202);
        assertThat(TestEdge.exported(dir, "web-events")).extracting(l -> l.get("eventId").asText()).containsExactly("ok-1");
        List<JsonNode> quarantined = TestEdge.exported(dir, "quarantine");
        assertThat(quarantined).hasSize(2);
        JsonNode badUrl = byEventId(quarantined, "quarantined:bad-url");
        JsonNode record = badUrl.get("event");
        assertThat(record.get("datastreamId").asText()).isEqualTo("shop");
        assertThat(record.get("dataset").asText()).isEqualTo("web-events");
        assertThat(record.get("eventId").asText()).isEqualTo("bad-url");
        // The event as the client sent it: not mapped (no _acme), the number still a number.
        assertThat(record.at("/event/xdm/web/webPageDetails/URL").isInt()).isTrue();
        assertThat(record.at("/event/xdm/_acme").isMissingNode()).isTrue();
        assertThat(record.at("/event/data/prop1").asText()).isEqualTo("y");
        assertThat(record.get("violations")).hasSize(1);
        assertThat(record.at("/violations/0/path").asText()).isEqualTo("xdm.web.webPageDetails.URL");
        assertThat(record.at("/violations/0/keyword").asText()).isEqualTo("type");
        assertThat(record.at("/violations/0/message").asText()).contains("string");
        JsonNode badEnv = byEventId(quarantined, "quarantined:bad-env").get("event");
        assertThat(badEnv.at("/violations/0/path").asText()).isEqualTo("xdm.environment.type");
        assertThat(badEnv.at("/violations/0/keyword").asText()).isEqualTo("enum");
        // One request: the same request id on the valid event and both records.
        String requestId = TestEdge.exported(dir, "web-events").get(0).get("requestId").asText();
        assertThat(quarantined).allSatisfy(q -> assertThat(q.get("requestId").asText()).isEqualTo(requestId));

        String metrics = edge.get("/metrics").body();
        assertThat(metrics).contains("xdmedge_quality_events_total{datastream=\"shop\",outcome=\"valid\"} 1.0");
        assertThat(metrics).contains("xdmedge_quality_events_total{datastream=\"shop\",outcome=\"invalid\"} 2.0");
        assertThat(metrics).contains("xdmedge_quality_violations_total{datastream=\"shop\",path=\"xdm.web.webPageDetails.URL\"} 1.0");
        assertThat(metrics).contains("xdmedge_quality_violations_total{datastream=\"shop\",path=\"xdm.environment.type\"} 1.0");
    }

    @Test
    void aRetriedRequestQuarantinesItsInvalidEventOnce() throws Exception {
        String body = batch(event("bad-1", "\"web\":{\"webPageDetails\":{\"URL\":5}}", null));
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=shop", body).statusCode()).isEqualTo(202);
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=shop", body).statusCode()).isEqualTo(202);
        assertThat(TestEdge.exported(dir, "quarantine")).hasSize(1);
    }

    @Test
    void interactNamesEveryViolationByPathInTheEventHandleAndWarns() throws Exception {
        String xdm = String.join(",",
                "\"web\":{\"webPageDetails\":{\"URL\":404,\"isHomePage\":\"yes\",\"pageViews\":{}}}",
                "\"commerce\":{\"order\":{\"priceTotal\":\"12.50\",\"payments\":{}},\"checkouts\":\"one\"}",
                "\"productListItems\":[{\"name\":\"Shoe\",\"product\":\"not a uri\",\"quantity\":1.5}]",
                "\"environment\":{\"type\":\"car\",\"browserDetails\":\"firefox\"}",
                "\"_acme\":{\"visitedAt\":\"yesterday\",\"landingPage\":\"::\",\"loyaltyMember\":null}");
        HttpResponse<String> res = edge.postJson("/ee/v2/interact?datastreamId=shop",
                "{\"event\":" + event("bad-all", xdm, null) + "}");

        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = TestEdge.json(res.body());
        JsonNode receipt = handle(body, "xdm-edge:event").get(0);
        assertThat(receipt.get("eventId").asText()).isEqualTo("bad-all");
        assertThat(receipt.get("stored").asBoolean()).isFalse();
        assertThat(receipt.get("reason").asText()).isEqualTo("invalid");
        List<String> found = new ArrayList<>();
        receipt.get("violations").forEach(v -> found.add(v.get("path").asText() + " " + v.get("keyword").asText()));
        assertThat(found).containsExactlyInAnyOrder(
                "xdm.web.webPageDetails.URL type",               // integer for a string
                "xdm.web.webPageDetails.isHomePage type",        // string for a boolean
                "xdm.web.webPageDetails.pageViews.value required",
                "xdm.commerce.order.priceTotal type",            // string for a number
                "xdm.commerce.order.payments type",              // object for an array
                "xdm.commerce.checkouts type",                   // string for an object
                "xdm.productListItems[0].SKU required",
                "xdm.productListItems[0].product format",        // uri
                "xdm.productListItems[0].quantity type",         // number for an integer
                "xdm.environment.type enum",
                "xdm.environment.browserDetails type",
                "xdm._acme.visitedAt format",                    // date-time
                "xdm._acme.landingPage format",                  // uri
                "xdm._acme.loyaltyMember type");                 // null for a boolean
        JsonNode warning = body.get("warnings").get(0);
        assertThat(warning.get("type").asText()).endsWith("EXEG-0104-422");
        assertThat(warning.get("detail").asText()).contains("quarantine");
        assertThat(TestEdge.exported(dir, "web-events")).isEmpty();
        assertThat(TestEdge.exported(dir, "quarantine")).hasSize(1);
    }

    @Test
    void everyMappingFunctionWritesItsValue() throws Exception {
        String data = """
                {"name":"Home","country":"fr","section":"MEN/Shoes","padded":"  summer  ","total":"1299.90","home":"yes",
                 "email":" Jane.Doe@Example.com","phone":"+33123456789","first":"Jane","last":"Doe",
                 "when":"01/03/2026 10:30","placed":1772357400000}""";
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=mapped", batch(event("m-1", "", data)));

        assertThat(res.statusCode()).isEqualTo(202);
        JsonNode xdm = byEventId(TestEdge.exported(dir, "mapped-events"), "m-1").at("/event/xdm");
        assertThat(xdm.at("/web/webPageDetails/name").asText()).isEqualTo("Home");
        assertThat(xdm.at("/placeContext/geo/countryCode").asText()).isEqualTo("FR");
        assertThat(xdm.at("/web/webPageDetails/siteSection").asText()).isEqualTo("men/shoes");
        assertThat(xdm.at("/_acme/campaign").asText()).isEqualTo("summer");
        assertThat(xdm.at("/commerce/order/priceTotal").isNumber()).isTrue();
        assertThat(xdm.at("/commerce/order/priceTotal").decimalValue()).isEqualByComparingTo("1299.90");
        assertThat(xdm.at("/web/webPageDetails/isHomePage").isBoolean()).isTrue();
        assertThat(xdm.at("/web/webPageDetails/isHomePage").asBoolean()).isTrue();
        assertThat(xdm.at("/identityMap/Email_LC_SHA256/0/id").asText()).isEqualTo(sha256("jane.doe@example.com"));
        assertThat(xdm.at("/identityMap/Phone_SHA256/0/id").asText()).isEqualTo(sha256("+33123456789"));
        assertThat(xdm.at("/_acme/fullName").asText()).isEqualTo("Jane Doe");
        assertThat(xdm.at("/channel/typeAtSource").asText()).isEqualTo("web");
        assertThat(xdm.at("/_acme/visitedAt").asText()).isEqualTo("2026-03-01T09:30:00Z"); // 10:30 in Paris
        assertThat(xdm.at("/commerce/order/createdDate").asText()).isEqualTo("2026-03-01T09:30:00Z");
        assertThat(xdm.at("/_acme/kind").asText()).isEqualTo("WEB.WEBPAGEDETAILS.PAGEVIEWS");
    }

    @Test
    void aValueAMappingCannotConvertQuarantinesTheEvent() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=mapped", batch(
                event("m-ok", "", "{\"total\":\"3\"}"),
                event("m-bad", "", "{\"total\":\"twelve\",\"when\":\"March 1st\"}")));

        assertThat(res.statusCode()).isEqualTo(202);
        assertThat(TestEdge.exported(dir, "mapped-events")).extracting(l -> l.get("eventId").asText()).containsExactly("m-ok");
        JsonNode record = TestEdge.exported(dir, "quarantine").get(0).get("event");
        List<String> found = new ArrayList<>();
        record.get("violations").forEach(v -> found.add(v.get("path").asText() + " " + v.get("keyword").asText()));
        assertThat(found).containsExactly("xdm.commerce.order.priceTotal mapping", "xdm._acme.visitedAt mapping");
        assertThat(record.at("/violations/0/message").asText()).contains("twelve").contains("data.total");
    }

    @Test
    void rejectModeRefusesTheWholeRequestNamingEachEventAndPath() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=strict", batch(
                event("s-ok", "", null),
                event("s-url", "\"web\":{\"webPageDetails\":{\"URL\":5}}", null),
                event("s-env", "\"environment\":{\"type\":\"car\"}", null)));

        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.get("type").asText()).endsWith("EXEG-0102-400");
        assertThat(problem.get("detail").asText()).contains("#1").contains("#2");
        assertThat(problem.at("/report/eventIndexes").toString()).isEqualTo("[1,2]");
        List<String> paths = new ArrayList<>();
        problem.at("/report/errors").forEach(e -> paths.add(e.get("path").asText()));
        assertThat(paths).containsExactly("events[1].xdm.web.webPageDetails.URL", "events[2].xdm.environment.type");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void aDatastreamWithoutRulesStoresWhatWasSent() throws Exception {
        String sent = event("p-1", "\"web\":{\"webPageDetails\":{\"URL\":5}}", "{\"a\":1}");
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=plain", batch(sent)).statusCode()).isEqualTo(202);
        List<JsonNode> stored = TestEdge.exported(dir, "plain-events");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).get("event")).isEqualTo(TestEdge.json(sent));
        assertThat(TestEdge.exported(dir, "quarantine")).isEmpty();
    }

    @Test
    void aSchemaFileThatDoesNotParseStopsStartUpNamingIt() throws Exception {
        Path broken = dir.resolve("broken.schema.json");
        Files.writeString(broken, "{\n  \"type\": \"object\",\n  \"properties\": { \"web\": \n}\n");
        Path yaml = dir.resolve("edge.yaml");
        Files.writeString(yaml, """
                organizations: [ { id: %s } ]
                datastreams:
                  - { id: shop, orgId: %1$s, dataset: web-events, schema: broken.schema.json }
                """.formatted(QualityFixtures.ORG));
        StringWriter err = new StringWriter();
        var cli = XdmEdgeCommand.commandLine();
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        int code = cli.execute("serve", "--config", yaml.toString(), "--data", dir.resolve("data2").toString(),
                "--host", "127.0.0.1", "--port", "0");

        assertThat(code).isEqualTo(2);
        assertThat(err.toString().lines().toList()).singleElement().satisfies(line -> assertThat(line)
                .startsWith("xdm-edge: schema file " + broken)
                .contains("datastream 'shop'").contains("is not JSON (line 4"));
    }

    @Test
    void anUnusableSchemaStopsTheNodeBeforeItListens() {
        String yaml = """
                organizations: [ { id: %s } ]
                datastreams:
                  - { id: shop, orgId: %1$s, dataset: web-events, schema: /nonexistent/web.schema.json }
                """.formatted(QualityFixtures.ORG);
        assertThatThrownBy(() -> TestEdge.start(yaml, dir.resolve("data3")))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("/nonexistent/web.schema.json").hasMessageContaining("does not exist");
    }

    private static JsonNode handle(JsonNode body, String type) {
        for (JsonNode h : body.get("handle")) {
            if (h.get("type").asText().equals(type)) {
                return h.get("payload");
            }
        }
        throw new AssertionError("no " + type + " handle in " + body);
    }
}
