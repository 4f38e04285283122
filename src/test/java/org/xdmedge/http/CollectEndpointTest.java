package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.xdmedge.testing.Fixtures;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

class CollectEndpointTest extends EdgeHttpTest {

    @Test
    void seedBatchIsAcceptedAndEveryEventStoredWithItsPrimaryIdentity() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?dataStreamId=ds", Fixtures.seed("collect-two-fpid-events.json"));

        assertThat(res.statusCode()).isEqualTo(202);
        String requestId = TestEdge.json(res.body()).get("requestId").asText();
        assertThat(requestId).matches("[0-9a-f-]{36}-[0-9a-f]{16}");
        assertThat(res.headers().firstValue("x-request-id")).contains(requestId);

        List<JsonNode> stored = edge.exported();
        assertThat(stored).hasSize(2);
        assertThat(stored).allSatisfy(line -> {
            assertThat(line.get("requestId").asText()).isEqualTo(requestId);
            assertThat(line.get("datastreamId").asText()).isEqualTo("ds");
            assertThat(line.get("dataset").asText()).isEqualTo("web-events");
            assertThat(line.get("primaryIdentity").get("namespace").asText()).isEqualTo("FPID");
            assertThat(line.get("eventId").asText()).isEqualTo(line.get("event").get("xdm").get("_id").asText());
            assertThat(Instant.parse(line.get("receivedAt").asText())).isBefore(Instant.now().plusSeconds(1));
        });
        assertThat(stored.get(0).get("primaryIdentity").get("id").asText()).isEqualTo("79bf8e83-f708-414b-b1ed-5789ff33bf0b");
        assertThat(stored.get(1).get("primaryIdentity").get("id").asText()).isEqualTo("871e8460-a329-4e96-a5b6-ff359fb0afb9");
        JsonNode first = stored.get(0).get("event");
        assertThat(first.get("xdm").get("timestamp").asText()).isEqualTo("2021-08-09T14:09:20.859Z");
        assertThat(first.get("xdm").get("web").get("webPageDetails").get("name").asText()).isEqualTo("home-demo-Home Page");
        assertThat(first.get("data").get("prop1").asText()).isEqualTo("custom value");
        assertThat(stored.get(1).get("event").has("data")).isFalse();
    }

    @Test
    void silentCollectAnswers204AndStillStores() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds&silent=true", Fixtures.seed("collect-two-fpid-events.json"));
        assertThat(res.statusCode()).isEqualTo(204);
        assertThat(res.body()).isEmpty();
        assertThat(res.headers().firstValue("x-request-id")).isPresent();
        assertThat(edge.exported()).hasSize(2);
    }

    @Test
    void silentStillReportsFatalErrors() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds&silent=true", "{\"events\": 3}");
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0102-400");
    }

    @Test
    void allThreeDatastreamParameterSpellingsAndTheEnvironmentSuffix() throws Exception {
        String body = event("e-1", "u-1");
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
        assertThat(edge.postJson("/ee/v2/collect?dataStreamId=ds", event("e-2", "u-1")).statusCode()).isEqualTo(202);
        assertThat(edge.postJson("/ee/v2/collect?configId=ds", event("e-3", "u-1")).statusCode()).isEqualTo(202);
        assertThat(edge.postJson("/ee/v2/collect?configId=ds:prod", event("e-4", "u-1")).statusCode()).isEqualTo(202);
        assertThat(edge.exported()).extracting(l -> l.get("eventId").asText()).containsExactly("e-1", "e-2", "e-3", "e-4");
    }

    @Test
    void callerRequestIdIsEchoedWithASuffixFromQueryOrHeader() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds&requestId=trace-42", event("e-1", "u-1"));
        String answered = TestEdge.json(res.body()).get("requestId").asText();
        assertThat(answered).matches("trace-42-[0-9a-f]{16}");
        assertThat(res.headers().firstValue("x-request-id")).contains(answered);

        HttpResponse<String> viaHeader = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .header("content-type", "application/json").header("x-request-id", "hdr-7")
                .POST(HttpRequest.BodyPublishers.ofString(event("e-2", "u-1"))));
        assertThat(TestEdge.json(viaHeader.body()).get("requestId").asText()).startsWith("hdr-7-");
        assertThat(edge.exported().get(1).get("requestId").asText()).startsWith("hdr-7-");
    }

    @Test
    void hostileRequestIdIsRefused() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds&requestId=%0d%0aSet-Cookie:x", event("e-1", "u-1"));
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0102-400");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void v1CollectAnswers204AndUsesTheBrowserEcidAsPrimary() throws Exception {
        HttpResponse<String> res = edge.post("/ee/v1/collect?configId=ds", "text/plain;charset=UTF-8",
                "{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"}}]}");
        assertThat(res.statusCode()).isEqualTo(204);
        JsonNode line = edge.exported().get(0);
        assertThat(line.get("primaryIdentity").get("namespace").asText()).isEqualTo("ECID");
        String ecid = line.get("primaryIdentity").get("id").asText();
        assertThat(ecid).matches("[0-9]{38}");
        assertThat(line.get("event").get("xdm").get("identityMap").get("ECID").get(0).get("id").asText()).isEqualTo(ecid);
    }

    @Test
    void everyAcceptedContentTypeWorks() throws Exception {
        assertThat(edge.post("/ee/v2/collect?datastreamId=ds", "text/plain;charset=UTF-8", event("a", "u")).statusCode()).isEqualTo(202);
        assertThat(edge.post("/ee/v2/collect?datastreamId=ds", "text/javascript", event("b", "u")).statusCode()).isEqualTo(202);
        assertThat(edge.post("/ee/v2/collect?datastreamId=ds", "application/json; charset=utf-8", event("c", "u")).statusCode()).isEqualTo(202);
        HttpResponse<String> form = edge.post("/ee/v2/collect?datastreamId=ds", "application/x-www-form-urlencoded", event("d", "u"));
        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(TestEdge.json(form.body()).get("type").asText()).endsWith("EXEG-0111-415");
        assertThat(form.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/problem+json"));
        assertThat(edge.exported()).hasSize(3);
    }

    @Test
    void gzipBodiesAreAccepted() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(Fixtures.seed("collect-two-fpid-events.json").getBytes(StandardCharsets.UTF_8));
        }
        HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=ds"))
                .header("content-type", "application/json").header("content-encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray())));
        assertThat(res.statusCode()).isEqualTo(202);
        assertThat(edge.exported()).hasSize(2);
    }

    @Test
    void eventsWithoutTimestampGetTheReceiveTime() throws Exception {
        Instant before = Instant.now().minusSeconds(1);
        edge.postJson("/ee/v2/collect?datastreamId=ds", event("e-1", "u-1"));
        JsonNode line = edge.exported().get(0);
        Instant stamped = Instant.parse(line.get("event").get("xdm").get("timestamp").asText());
        assertThat(stamped).isAfter(before).isBefore(Instant.now().plusSeconds(1));
        assertThat(stamped).isEqualTo(Instant.parse(line.get("receivedAt").asText()));
    }

    @Test
    void aRetriedEventIdIsAcknowledgedButStoredOnce() throws Exception {
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", event("same-id", "u-1")).statusCode()).isEqualTo(202);
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", event("same-id", "u-1")).statusCode()).isEqualTo(202);
        assertThat(edge.exported()).hasSize(1);
    }

    @Test
    void aRetriedRequestWithoutEventIdsIsStoredOnceWhenTheCallerNamesIt() throws Exception {
        String body = "{\"events\":[{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"c1\",\"primary\":true}]}}},"
                + "{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"c2\",\"primary\":true}]}}}]}";
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds&requestId=retry-1", body).statusCode()).isEqualTo(202);
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds&requestId=retry-1", body).statusCode()).isEqualTo(202);
        assertThat(edge.exported()).hasSize(2);
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds&requestId=retry-2", body).statusCode()).isEqualTo(202);
        assertThat(edge.exported()).hasSize(4);
    }

    @Test
    void aBatchWithOneEventLackingAPrimaryIdentityIsRefusedWhole() throws Exception {
        String body = "{\"events\":[" + eventObject("ok-1", "u-1") + ","
                + "{\"xdm\":{\"_id\":\"bad\",\"identityMap\":{\"CRMID\":[{\"id\":\"c9\"}]}}}]}";
        HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds", body);
        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.get("type").asText()).isEqualTo("https://ns.adobe.com/aep/errors/EXEG-0306-400");
        assertThat(problem.get("detail").asText()).contains("#1");
        assertThat(problem.get("report").get("eventIndex").asInt()).isEqualTo(1);
        assertThat(problem.get("report").get("requestId").asText()).isNotBlank();
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void primaryMayBeTheStringTrue() throws Exception {
        String body = "{\"events\":[{\"xdm\":{\"_id\":\"s1\",\"identityMap\":{\"Email\":[{\"id\":\"a@b.c\",\"primary\":\"false\"}],"
                + "\"CRMID\":[{\"id\":\"c1\",\"primary\":\"true\"}]}}}]}";
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
        assertThat(edge.exported().get(0).get("primaryIdentity").get("namespace").asText()).isEqualTo("CRMID");
    }

    @Test
    void unknownFieldsAreIgnoredAndKept() throws Exception {
        String body = "{\"whatever\":{\"a\":1},\"events\":[{\"xdm\":{\"_id\":\"u1\",\"custom\":{\"x\":[1,2.50,null]},"
                + "\"identityMap\":{\"CRMID\":[{\"id\":\"c1\",\"primary\":true,\"extra\":1}]}},\"other\":true}]}";
        assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
        assertThat(edge.exported().get(0).get("event").get("xdm").get("custom").toString()).isEqualTo("{\"x\":[1,2.50,null]}");
    }

    @Test
    void eventsOfOtherDatastreamsDoNotCountAsDuplicates() throws Exception {
        String yaml = TestEdge.BASIC_CONFIG + """
                  - id: ds2
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: other-events
                """;
        edge.close();
        edge = TestEdge.start(yaml, dir.resolve("two"));
        edge.postJson("/ee/v2/collect?datastreamId=ds", event("shared-id", "u"));
        edge.postJson("/ee/v2/collect?datastreamId=ds2", event("shared-id", "u"));
        assertThat(edge.exported()).extracting(l -> l.get("dataset").asText()).containsExactly("web-events", "other-events");
        assertThat(TestEdge.exported(edge.dataDir(), "other-events")).hasSize(1);
    }

    static String event(String id, String user) {
        return "{\"events\":[" + eventObject(id, user) + "]}";
    }

    static String eventObject(String id, String user) {
        return "{\"xdm\":{\"_id\":\"" + id + "\",\"eventType\":\"test\",\"identityMap\":{\"CRMID\":[{\"id\":\""
                + user + "\",\"primary\":true}]}}}";
    }
}
