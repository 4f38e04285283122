package org.xdmedge.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.sdk.SdkEdge.adobe1;
import static org.xdmedge.sdk.SdkEdge.consentBody;
import static org.xdmedge.sdk.SdkEdge.ecid;
import static org.xdmedge.sdk.SdkEdge.iab;
import static org.xdmedge.sdk.SdkEdge.interactBody;
import static org.xdmedge.sdk.SdkEdge.meta;
import static org.xdmedge.sdk.SdkEdge.payloads;
import static org.xdmedge.sdk.SdkEdge.post;
import static org.xdmedge.sdk.SdkEdge.stateItem;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xdmedge.consent.TcStrings;
import org.xdmedge.identity.IdentityCookie;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** set-consent, acquire and server-side consent enforcement, over HTTP against a real edge. */
class ConsentEndpointsTest extends EdgeHttpTest {
    private static final String IAB_IN = "CO052l-O052l-DGAMBFRACBgAIBAAAAAAIYgEawAQEagAAAA";
    private static final String IAB_NO_PURPOSE_ONE = "CO052oTO052oTDGAMBFRACBgAABAAAAAAIYgEawAQEagAAAA";
    private static final String IAB_NO_PURPOSE_TEN = "CO052kIO052kIDGAMBFRACBgAIAAAAAAAIYgEawAQEagAAAA";
    private static final String IAB_NO_ADOBE = "CO052qdO052qdDGAMBFRACBgAIBAAAAAAIYgAAoAAAAA";
    private static final String WARNING_0301 = "https://ns.adobe.com/aep/errors/EXEG-0301-200";

    @Override
    protected String config() {
        return SdkEdge.CONFIG;
    }

    private JsonNode ok(HttpResponse<String> res) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        return TestEdge.json(res.body());
    }

    private JsonNode setConsent(String datastream, String consent, String meta) throws Exception {
        return ok(post(edge, "/ee/v1/privacy/set-consent?configId=" + datastream, consentBody(consent, meta)));
    }

    private static String general(JsonNode body) {
        JsonNode item = stateItem(body, "consent");
        return item == null ? null : item.path("value").asText();
    }

    @Test
    void setConsentAsFirstRequestEstablishesIdentityAndAnswersConsentState() throws Exception {
        JsonNode body = setConsent("ds", adobe1("in"), null);
        assertThat(body.has("warnings")).isFalse();
        String ecid = ecid(body);
        JsonNode identity = stateItem(body, "identity");
        assertThat(identity).as("identity item on the first answer").isNotNull();
        assertThat(IdentityCookie.decode(identity.path("value").asText()).orElseThrow().ecid()).isEqualTo(ecid);
        JsonNode consent = stateItem(body, "consent");
        assertThat(consent.path("value").asText()).isEqualTo("general=in");
        assertThat(consent.path("maxAge").asInt()).isEqualTo(15552000);
        JsonNode check = stateItem(body, "consent_check");
        assertThat(check.path("value").asText()).isEqualTo("1");
        assertThat(check.path("maxAge").asInt()).isEqualTo(7200);
        assertThat(payloads(body, "consent:preferences").get(0).path("collect").path("val").asText()).isEqualTo("y");

        // The same visitor again: the identity item is fresh, so it is not re-issued.
        JsonNode again = setConsent("ds", adobe1("in"), meta("identity", identity.path("value").asText()));
        assertThat(ecid(again)).isEqualTo(ecid);
        assertThat(stateItem(again, "identity")).isNull();
    }

    @Test
    void optOutIsEnforcedOnEveryEndpointAndRemembered() throws Exception {
        JsonNode out = setConsent("ds", adobe1("out"), null);
        assertThat(general(out)).isEqualTo("general=out");
        assertThat(out.path("warnings").get(0).path("type").asText()).isEqualTo(WARNING_0301);
        String identity = stateItem(out, "identity").path("value").asText();
        String ecid = ecid(out);

        // Interact with only the identity (no consent cookie): the server remembers the opt-out.
        JsonNode interact = ok(post(edge, "/ee/v1/interact?configId=ds", interactBody(meta("identity", identity))));
        assertThat(interact.path("warnings").get(0).path("type").asText()).isEqualTo(WARNING_0301);
        assertThat(interact.path("warnings").get(0).path("status").asInt()).isEqualTo(200);
        assertThat(general(interact)).isEqualTo("general=out");
        assertThat(stateItem(interact, "consent_check")).isNotNull();
        assertThat(payloads(interact, "consent:preferences").get(0).path("collect").path("val").asText()).isEqualTo("n");

        // Beacon (v1 collect) with the identity in a Cookie header and a v2 collect naming the ECID.
        HttpResponse<String> beacon = post(edge, "/ee/v1/collect?configId=ds",
                "{\"events\":[{\"xdm\":{\"eventType\":\"a\"}},{\"xdm\":{\"eventType\":\"b\"}}]}",
                SdkEdge.PREFIX + "identity=" + identity);
        assertThat(beacon.statusCode()).isEqualTo(204);
        HttpResponse<String> server = edge.postJson("/ee/v2/collect?datastreamId=ds",
                "{\"events\":[{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\"}]}}}]}");
        assertThat(server.statusCode()).isEqualTo(202);
        assertThat(edge.exported()).isEmpty();
        String metrics = edge.get("/metrics").body();
        assertThat(metrics).contains("xdmedge_consent_ignored_events_total{action=\"v1_collect\",consent=\"out\"} 2.0");
        assertThat(metrics).contains("xdmedge_consent_ignored_events_total{action=\"v2_collect\",consent=\"out\"} 1.0");

        // Remembered across a restart (SQLite state store), then opting in collects again.
        edge.close();
        edge = TestEdge.start(SdkEdge.CONFIG, dir);
        JsonNode still = ok(post(edge, "/ee/v1/interact?configId=ds", interactBody(meta("identity", identity))));
        assertThat(general(still)).isEqualTo("general=out");
        assertThat(edge.exported()).isEmpty();
        JsonNode in = setConsent("ds", adobe1("in"), meta("identity", identity));
        assertThat(general(in)).isEqualTo("general=in");
        assertThat(in.has("warnings")).isFalse();
        ok(post(edge, "/ee/v1/interact?configId=ds", interactBody(meta("identity", identity))));
        List<JsonNode> stored = edge.exported();
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).path("primaryIdentity").path("id").asText()).isEqualTo(ecid);
    }

    @Test
    void aConsentCookieOfOutIsHonouredWhenTheServerHasNoRecord() throws Exception {
        JsonNode body = ok(post(edge, "/ee/v1/interact?configId=ds",
                interactBody(meta("consent", "general=out"))));
        assertThat(body.path("warnings").get(0).path("type").asText()).isEqualTo(WARNING_0301);
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void pendingDatastreamStoresNothingUntilConsentIsIn() throws Exception {
        JsonNode first = ok(post(edge, "/ee/v1/interact?configId=pending", interactBody(null)));
        assertThat(first.path("warnings").get(0).path("type").asText()).isEqualTo(WARNING_0301);
        assertThat(general(first)).as("pending is not pushed to the client").isNull();
        assertThat(edge.exported()).isEmpty();
        String identity = stateItem(first, "identity").path("value").asText();

        JsonNode in = setConsent("pending", adobe1("in"), meta("identity", identity));
        assertThat(general(in)).isEqualTo("general=in");
        JsonNode after = ok(post(edge, "/ee/v1/interact?configId=pending", interactBody(meta("identity", identity))));
        assertThat(after.has("warnings")).isFalse();
        assertThat(edge.exported()).hasSize(1);
    }

    @Test
    void adobeTwoPointZeroDecidesOnCollectAndEchoesPreferences() throws Exception {
        JsonNode in = setConsent("ds", "[{\"standard\":\"Adobe\",\"version\":\"2.0\",\"value\":{\"collect\":{\"val\":\"y\"},"
                + "\"personalize\":{\"content\":{\"val\":\"n\"}},\"metadata\":{\"time\":\"2019-01-01T15:52:25+00:00\"}}}]", null);
        assertThat(general(in)).isEqualTo("general=in");
        JsonNode prefs = payloads(in, "consent:preferences").get(0);
        assertThat(prefs.path("personalize").path("content").path("val").asText()).isEqualTo("n");
        assertThat(prefs.path("metadata").path("time").asText()).isEqualTo("2019-01-01T15:52:25+00:00");

        JsonNode out = setConsent("ds", "[{\"standard\":\"Adobe\",\"version\":\"2.0\",\"value\":{\"collect\":{\"val\":\"n\"}}}]", null);
        assertThat(general(out)).isEqualTo("general=out");
    }

    @Test
    void iabTcfDecidesOnPurposeOneAndTheConfiguredVendor() throws Exception {
        assertThat(general(setConsent("ds", iab(IAB_IN, true), null))).isEqualTo("general=in");
        assertThat(general(setConsent("ds", iab(IAB_NO_PURPOSE_ONE, true), null))).isEqualTo("general=out");
        assertThat(general(setConsent("ds", iab(IAB_NO_ADOBE, true), null))).isEqualTo("general=out");
        assertThat(general(setConsent("ds", iab(IAB_NO_PURPOSE_TEN, true), null))).isEqualTo("general=in");
        assertThat(general(setConsent("ds", iab(IAB_NO_PURPOSE_ONE, false), null))).as("gdprApplies false").isEqualTo("general=in");

        // A datastream naming vendor 42: a string granting 42 but not Adobe's 565 is in there, out on ds.
        String only42 = TcStrings.ranges(Set.of(1, 2), 600, List.of(new TcStrings.Range(42, 42)));
        assertThat(general(setConsent("vendor42", iab(only42, true), null))).isEqualTo("general=in");
        assertThat(general(setConsent("ds", iab(only42, true), null))).isEqualTo("general=out");
        String only565 = TcStrings.bitField(Set.of(1), 565, Set.of(565));
        assertThat(general(setConsent("vendor42", iab(only565, true), null))).isEqualTo("general=out");
    }

    @Test
    void badConsentPayloadsAreRefusedWithEveryProblemListed() throws Exception {
        HttpResponse<String> types = post(edge, "/ee/v1/privacy/set-consent?configId=ds", consentBody(
                "[{\"standard\":7,\"version\":\"1.0\",\"value\":{\"general\":\"in\"}},"
                        + "{\"standard\":\"Adobe\",\"version\":\"1.0\"},"
                        + "{\"standard\":\"IAB TCF\",\"version\":\"2.0\",\"value\":\"" + IAB_IN + "\",\"gdprApplies\":\"yes\"}]", null));
        assertThat(types.statusCode()).isEqualTo(400);
        JsonNode problem = TestEdge.json(types.body());
        assertThat(problem.path("type").asText()).endsWith("EXEG-0102-400");
        assertThat(problem.path("report").path("errors")).extracting(e -> e.path("path").asText())
                .containsExactlyInAnyOrder("consent[0].standard", "consent[1].value", "consent[2].gdprApplies");

        HttpResponse<String> values = post(edge, "/ee/v1/privacy/set-consent?configId=ds", consentBody(
                "[{\"standard\":\"Adobe\",\"version\":\"9.9\",\"value\":{}},"
                        + "{\"standard\":\"IAB TCF\",\"version\":\"2.0\",\"value\":\"%%%\",\"gdprApplies\":true},"
                        + "{\"standard\":\"Adobe\",\"version\":\"1.0\",\"value\":{\"general\":\"maybe\"}},"
                        + "{\"standard\":\"Adobe\",\"version\":\"2.0\",\"value\":{\"collect\":{\"val\":\"q\"}}}]", null));
        assertThat(values.statusCode()).isEqualTo(422);
        JsonNode report = TestEdge.json(values.body());
        assertThat(report.path("type").asText()).endsWith("EXEG-0104-422");
        assertThat(report.path("report").path("errors")).extracting(e -> e.path("path").asText())
                .containsExactlyInAnyOrder("consent[0].standard", "consent[1].value", "consent[2].value.general",
                        "consent[3].value.collect.val");

        HttpResponse<String> notArray = post(edge, "/ee/v1/privacy/set-consent?configId=ds", "{\"consent\":{\"general\":\"in\"}}");
        assertThat(notArray.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(notArray.body()).path("type").asText()).endsWith("EXEG-0102-400");
    }

    @Test
    void acquireEstablishesIdentityOnceAndReissuesOnlyAfterADay() throws Exception {
        String body = "{\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}";
        JsonNode first = ok(post(edge, "/ee/v1/identity/acquire?configId=ds", body));
        String ecid = ecid(first);
        String identity = stateItem(first, "identity").path("value").asText();
        assertThat(IdentityCookie.decode(identity).orElseThrow().ecid()).isEqualTo(ecid);
        assertThat(edge.exported()).isEmpty();

        String withState = "{\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}},\"meta\":" + meta("identity", identity) + "}";
        JsonNode second = ok(post(edge, "/ee/v1/identity/acquire?configId=ds", withState));
        assertThat(ecid(second)).isEqualTo(ecid);
        assertThat(stateItem(second, "identity")).isNull();

        long twoDaysAgo = System.currentTimeMillis() - 2L * 24 * 3600 * 1000;
        String stale = IdentityCookie.encode(ecid, twoDaysAgo, false, "or2", twoDaysAgo);
        JsonNode third = ok(post(edge, "/ee/v1/identity/acquire?configId=ds",
                "{\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}", SdkEdge.PREFIX + "identity=" + stale));
        assertThat(ecid(third)).isEqualTo(ecid);
        assertThat(stateItem(third, "identity")).as("re-issued after 24 h").isNotNull();
    }
}
