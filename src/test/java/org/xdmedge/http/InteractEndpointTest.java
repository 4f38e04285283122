package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.UnknownFieldSet;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xdmedge.identity.IdentityCookie;
import org.xdmedge.testing.Fixtures;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

class InteractEndpointTest extends EdgeHttpTest {
    static final String IDENTITY_KEY = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity";
    static final String CLUSTER_KEY = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_cluster";


    @Test
    void seedInteractAnswersHandlesAndStoresTheEvent() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/interact?dataStreamId=ds", Fixtures.seed("interact-single-event.json"));

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/json"));
        assertThat(res.headers().firstValue("x-adobe-edge")).contains("OR2;9");
        JsonNode body = TestEdge.json(res.body());
        assertThat(body.get("requestId").asText()).isEqualTo(res.headers().firstValue("x-request-id").orElseThrow());
        JsonNode hint = payloads(body, "locationHint:result").get(0);
        assertThat(hint.get("scope").asText()).isEqualTo("EdgeNetwork");
        assertThat(hint.get("hint").asText()).isEqualTo("or2");
        assertThat(hint.get("ttlSeconds").asInt()).isEqualTo(1800);

        List<JsonNode> state = payloads(body, "state:store");
        JsonNode identity = item(state, IDENTITY_KEY);
        assertThat(identity.get("maxAge").asInt()).isEqualTo(34128000);
        assertThat(identity.get("attrs").get("SameSite").asText()).isEqualTo("None");
        JsonNode cluster = item(state, CLUSTER_KEY);
        assertThat(cluster.get("value").asText()).isEqualTo("or2");
        assertThat(cluster.get("maxAge").asInt()).isEqualTo(1800);
        assertThat(payloads(body, "identity:result")).isEmpty();

        List<JsonNode> stored = edge.exported();
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).get("primaryIdentity").get("namespace").asText()).isEqualTo("Email_LC_SHA256");
        String ecid = ecidOf(identity.get("value").asText());
        assertThat(stored.get(0).get("event").get("xdm").get("identityMap").get("ECID").get(0).get("id").asText()).isEqualTo(ecid);
        assertThat(stored.get(0).get("event").get("xdm").get("identityMap").get("ECID").get(0).get("primary").asBoolean()).isFalse();
    }

    @Test
    void theOtherSeedInteractBodyWorksToo() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/interact?datastreamId=ds", Fixtures.seed("interact-email-sha256.json"));
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(edge.exported()).hasSize(1);
    }

    @Test
    void theDocumentPlaceholderTimestampIsRefusedAndLocated() throws Exception {
        HttpResponse<String> res = edge.postJson("/ee/v2/interact?datastreamId=ds", Fixtures.seed("interact-doc-placeholder-timestamp.json"));
        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.get("type").asText()).endsWith("EXEG-0102-400");
        assertThat(problem.get("report").get("errors").get(0).get("path").asText()).isEqualTo("event.xdm.timestamp");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void identityItemIsTheProtobufOfSpecSection3() throws Exception {
        long before = System.currentTimeMillis();
        JsonNode body = TestEdge.json(edge.postJson("/ee/v2/interact?datastreamId=ds&requestId=r1",
                "{\"event\":{\"xdm\":{}},\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}").body());
        String value = item(payloads(body, "state:store"), IDENTITY_KEY).get("value").asText();
        assertThat(value).matches("[A-Za-z0-9_=-]+");

        UnknownFieldSet fields = UnknownFieldSet.parseFrom(Base64.getUrlDecoder().decode(value));
        String ecid = fields.getField(1).getLengthDelimitedList().get(0).toStringUtf8();
        assertThat(ecid).matches("[0-9]{38}");
        UnknownFieldSet metadata = UnknownFieldSet.parseFrom(fields.getField(10).getLengthDelimitedList().get(0));
        assertThat(metadata.getField(1).getVarintList().get(0)).isBetween(before, System.currentTimeMillis());
        assertThat(metadata.getField(5).getLengthDelimitedList().get(0).toStringUtf8()).isEqualTo("OR2");
        assertThat(fields.getField(30).getVarintList().get(0)).isBetween(before, System.currentTimeMillis());

        JsonNode result = payloads(body, "identity:result").get(0);
        assertThat(result.get("id").asText()).isEqualTo(ecid);
        assertThat(result.get("namespace").get("code").asText()).isEqualTo("ECID");
    }

    @Test
    void returningVisitorKeepsItsEcidFromTheCookieAndGetsNoNewIdentityItem() throws Exception {
        JsonNode first = TestEdge.json(edge.post("/ee/v1/interact?configId=ds", "text/plain", alloyBody(null)).body());
        String identity = item(payloads(first, "state:store"), IDENTITY_KEY).get("value").asText();
        String ecid = payloads(first, "identity:result").get(0).get("id").asText();

        HttpResponse<String> again = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v1/interact?configId=ds"))
                .header("content-type", "text/plain;charset=UTF-8")
                .header("cookie", "other=1; " + IDENTITY_KEY + "=" + identity + "; " + CLUSTER_KEY + "=or2")
                .POST(HttpRequest.BodyPublishers.ofString(alloyBody(null))));
        JsonNode second = TestEdge.json(again.body());
        assertThat(payloads(second, "identity:result").get(0).get("id").asText()).isEqualTo(ecid);
        assertThat(payloads(second, "state:store")).extracting(n -> n.get("key").asText()).containsExactly(CLUSTER_KEY);
        assertThat(edge.exported()).extracting(l -> l.get("primaryIdentity").get("id").asText()).containsExactly(ecid, ecid);
    }

    @Test
    void returningVisitorStateMayComeInMetaState() throws Exception {
        JsonNode first = TestEdge.json(edge.post("/ee/v1/interact?configId=ds", "text/plain", alloyBody(null)).body());
        String identity = item(payloads(first, "state:store"), IDENTITY_KEY).get("value").asText();
        String ecid = payloads(first, "identity:result").get(0).get("id").asText();

        JsonNode second = TestEdge.json(edge.post("/ee/v1/interact?configId=ds", "text/plain", alloyBody(identity)).body());
        assertThat(payloads(second, "identity:result").get(0).get("id").asText()).isEqualTo(ecid);
        assertThat(payloads(second, "state:store")).extracting(n -> n.get("key").asText()).doesNotContain(IDENTITY_KEY);
    }

    @Test
    void identityItemOlderThanADayIsReissuedWithTheSameEcid() throws Exception {
        long twoDaysAgo = System.currentTimeMillis() - 2 * 24 * 3600 * 1000L;
        String ecid = "01234567890123456789012345678901234567";
        String old = IdentityCookie.encode(ecid, twoDaysAgo, false, "or2", twoDaysAgo);
        JsonNode body = TestEdge.json(edge.post("/ee/v1/interact?configId=ds", "text/plain", alloyBody(old)).body());
        String fresh = item(payloads(body, "state:store"), IDENTITY_KEY).get("value").asText();
        IdentityCookie.Decoded decoded = IdentityCookie.decode(fresh).orElseThrow();
        assertThat(decoded.ecid()).isEqualTo(ecid);
        assertThat(decoded.createdAtMillis()).isEqualTo(twoDaysAgo);
        assertThat(decoded.writeTimeMillis()).isGreaterThan(twoDaysAgo + 24 * 3600 * 1000L);
    }

    @Test
    void ecidInTheIdentityMapWinsOverTheCookie() throws Exception {
        String cookieEcid = "11111111111111111111111111111111111111";
        String mapEcid = "22222222222222222222222222222222222222";
        String state = IdentityCookie.encode(cookieEcid, 1, false, "or2", System.currentTimeMillis());
        String body = "{\"events\":[{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + mapEcid + "\"}]}}}],"
                + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}},"
                + "\"meta\":{\"state\":{\"entries\":[{\"key\":\"" + IDENTITY_KEY + "\",\"value\":\"" + state + "\"}]}}}";
        JsonNode answer = TestEdge.json(edge.post("/ee/v1/interact?configId=ds", "text/plain", body).body());
        assertThat(payloads(answer, "identity:result").get(0).get("id").asText()).isEqualTo(mapEcid);
        assertThat(IdentityCookie.decode(item(payloads(answer, "state:store"), IDENTITY_KEY).get("value").asText())
                .orElseThrow().ecid()).isEqualTo(mapEcid);
        assertThat(edge.exported().get(0).get("primaryIdentity").get("id").asText()).isEqualTo(mapEcid);
    }

    @Test
    void malformedEcidIsRefusedWith0308() throws Exception {
        String body = "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"1234\"}]}}}}";
        HttpResponse<String> res = edge.postJson("/ee/v2/interact?datastreamId=ds", body);
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0308-400");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void unreadableIdentityStateIsIgnoredAndANewEcidMinted() throws Exception {
        JsonNode body = TestEdge.json(edge.post("/ee/v1/interact?configId=ds", "text/plain", alloyBody("%%%not-base64")).body());
        assertThat(payloads(body, "identity:result").get(0).get("id").asText()).matches("[0-9]{38}");
        assertThat(item(payloads(body, "state:store"), IDENTITY_KEY)).isNotNull();
    }

    @Test
    void v1InteractTakesSeveralEventsAndRequestLevelXdm() throws Exception {
        String body = "{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"crm-1\",\"primary\":true}]},\"device\":{\"model\":\"x\"}},"
                + "\"events\":[{\"xdm\":{\"_id\":\"m1\",\"eventType\":\"a\"}},{\"xdm\":{\"_id\":\"m2\",\"eventType\":\"b\","
                + "\"device\":{\"model\":\"own\"}}}]}";
        HttpResponse<String> res = edge.postJson("/ee/v1/interact?configId=ds", body);
        assertThat(res.statusCode()).isEqualTo(200);
        List<JsonNode> stored = edge.exported();
        assertThat(stored).extracting(l -> l.get("primaryIdentity").get("id").asText()).containsExactly("crm-1", "crm-1");
        assertThat(stored.get(0).get("event").get("xdm").get("device").get("model").asText()).isEqualTo("x");
        assertThat(stored.get(1).get("event").get("xdm").get("device").get("model").asText()).isEqualTo("own");
    }

    @Test
    void locationHintPathsAreServedAndUnknownHintsAre404WithEmptyBody() throws Exception {
        assertThat(edge.post("/ee/or2/v1/interact?configId=ds", "text/plain", alloyBody(null)).statusCode()).isEqualTo(200);
        assertThat(edge.post("/ee/t35/v1/interact?configId=ds", "text/plain", alloyBody(null)).statusCode()).isEqualTo(200);
        HttpResponse<String> unknown = edge.post("/ee/xx1/v1/interact?configId=ds", "text/plain", alloyBody(null));
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).isEmpty();
        assertThat(edge.exported()).hasSize(2);
    }

    static String alloyBody(String identityState) {
        String entries = identityState == null ? "" : ",\"entries\":[{\"key\":\"" + IDENTITY_KEY + "\",\"value\":\"" + identityState + "\"}]";
        return "{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\",\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.test/\"}}}}],"
                + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}},"
                + "\"meta\":{\"state\":{\"domain\":\"shop.test\",\"cookiesEnabled\":true" + entries + "}}}";
    }

    static List<JsonNode> payloads(JsonNode body, String type) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode handle : body.get("handle")) {
            if (handle.get("type").asText().equals(type)) {
                handle.get("payload").forEach(out::add);
            }
        }
        return out;
    }

    static JsonNode item(List<JsonNode> state, String key) {
        return state.stream().filter(n -> n.get("key").asText().equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no state item " + key + " in " + state));
    }

    static String ecidOf(String identityValue) {
        return IdentityCookie.decode(identityValue).orElseThrow().ecid();
    }
}
