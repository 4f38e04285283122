package org.xdmedge.personalization;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** interact against the real edge: which propositions come back for which query, audience and consent. */
class PersonalizationHttpTest extends EdgeHttpTest {
    static final String ECID = "12345678901234567890123456789012345678";
    static final String DOM = "https://ns.adobe.com/personalization/dom-action";
    static final String HTML = "https://ns.adobe.com/personalization/html-content-item";
    static final String JSON = "https://ns.adobe.com/personalization/json-content-item";
    static final String REDIRECT = "https://ns.adobe.com/personalization/redirect-item";
    static final String ALL_SCHEMAS = "[\"" + HTML + "\",\"" + JSON + "\",\"" + REDIRECT + "\",\"" + DOM + "\"]";

    static final String CONFIG = """
            server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: ds
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                personalization:
                  activities:
                    - id: hero-banner
                      scope: __view__
                      priority: 10
                      audience:
                        - { field: xdm.web.webPageDetails.URL, op: contains, value: "/products" }
                      experiences:
                        - id: a
                          weight: 100
                          items:
                            - { type: dom-action, action: setHtml, selector: "#hero", content: "<b>Sale</b>" }
                    - id: view-fallback
                      scope: __view__
                      experiences:
                        - { id: only, weight: 100, items: [ { type: json, content: { color: "#D41DBA" } } ] }
                    - id: offer
                      scope: checkout-offer
                      experiences:
                        - { id: only, weight: 100, items: [ { type: html, content: "<p>Free shipping</p>" } ] }
                    - id: mobile-home
                      scope: mobileapp://com.example.app/home
                      experiences:
                        - { id: only, weight: 100, items: [ { type: json, content: { tile: 3 } } ] }
                    - id: page-surface
                      scope: web://shop.example/cart
                      experiences:
                        - { id: only, weight: 100, items: [ { type: redirect, content: "https://shop.example/cart2" } ] }
                    - id: ops
                      scope: ops
                      audience:
                        - { field: data.tier, op: in, value: [gold, platinum] }
                        - { field: data.cartValue, op: greaterThan, value: 100 }
                        - { field: data.cartValue, op: lessThan, value: 1000 }
                        - { field: xdm.device.type, op: notEquals, value: tablet }
                        - { field: data.coupon, op: exists }
                        - { field: data.campaign, op: startsWith, value: "spring" }
                        - { field: context.userAgent, op: contains, value: "TestAgent" }
                        - { field: data.tier, op: equals, value: gold }
                      experiences:
                        - { id: only, weight: 100, items: [ { type: json, content: { matched: true } } ] }
              - id: held
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                consent: { default: pending }
                personalization:
                  activities:
                    - id: offer
                      scope: checkout-offer
                      experiences:
                        - { id: only, weight: 100, items: [ { type: html, content: "<p>Free shipping</p>" } ] }
            """;

    @Override
    protected String config() {
        return CONFIG;
    }

    static String body(String xdm, String data, String personalization) {
        return "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ECID + "\"}]}" + (xdm.isEmpty() ? "" : "," + xdm)
                + "}" + (data == null ? "" : ",\"data\":" + data)
                + ",\"query\":{\"personalization\":" + personalization + "}}}";
    }

    List<JsonNode> propositions(String datastream, String body) throws Exception {
        return propositions(edge.postJson("/ee/v2/interact?datastreamId=" + datastream, body));
    }

    static List<JsonNode> propositions(HttpResponse<String> res) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode h : TestEdge.json(res.body()).path("handle")) {
            if (h.path("type").asText().equals("personalization:decisions")) {
                assertThat(h.path("eventIndex").asInt()).isZero();
                h.path("payload").forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void viewScopeGetsTheDomActionWhenTheAudienceHoldsAndTheFallbackOtherwise() throws Exception {
        String query = "{\"schemas\":" + ALL_SCHEMAS + ",\"decisionScopes\":[\"__view__\"]}";
        List<JsonNode> products = propositions("ds", body(
                "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example/products/42\"}}", null, query));
        assertThat(products).hasSize(1);
        JsonNode p = products.get(0);
        assertThat(p.path("scope").asText()).isEqualTo("__view__");
        assertThat(p.path("id").asText()).isNotEmpty();
        assertThat(p.at("/scopeDetails/decisionProvider").asText()).isEqualTo("TGT");
        assertThat(p.at("/scopeDetails/activity/id").asText()).isEqualTo("hero-banner");
        assertThat(p.at("/scopeDetails/experience/id").asText()).isEqualTo("a");
        assertThat(p.at("/scopeDetails/characteristics/eventToken").asText()).isNotEmpty();
        assertThat(p.at("/scopeDetails/strategies/0/algorithmID").asText()).isEqualTo("0");
        assertThat(p.at("/scopeDetails/correlationID").asText()).isNotEmpty();
        JsonNode item = p.path("items").get(0);
        assertThat(item.path("schema").asText()).isEqualTo(DOM);
        assertThat(item.path("id").asText()).isNotEmpty();
        assertThat(item.at("/data/type").asText()).isEqualTo("setHtml");
        assertThat(item.at("/data/selector").asText()).isEqualTo("#hero");
        assertThat(item.at("/data/prehidingSelector").asText()).isEqualTo("#hero");
        assertThat(item.at("/data/content").asText()).isEqualTo("<b>Sale</b>");

        List<JsonNode> home = propositions("ds", body(
                "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example/\"}}", null, query));
        assertThat(home).hasSize(1);
        assertThat(home.get(0).at("/scopeDetails/activity/id").asText()).isEqualTo("view-fallback");
        assertThat(home.get(0).at("/items/0/schema").asText()).isEqualTo(JSON);
        assertThat(home.get(0).at("/items/0/data/content/color").asText()).isEqualTo("#D41DBA");
    }

    @Test
    void onlyTheScopesAndSurfacesAskedForAreAnswered() throws Exception {
        List<JsonNode> named = propositions("ds", body("", null,
                "{\"schemas\":" + ALL_SCHEMAS + ",\"decisionScopes\":[\"checkout-offer\",\"unknown\"]}"));
        assertThat(named).extracting(p -> p.path("scope").asText()).containsExactly("checkout-offer");
        assertThat(named.get(0).at("/items/0/schema").asText()).isEqualTo(HTML);
        assertThat(named.get(0).at("/items/0/data/format").asText()).isEqualTo("text/html");
        assertThat(named.get(0).at("/items/0/data/content").asText()).isEqualTo("<p>Free shipping</p>");

        // Surfaces compare as alloy writes them: host case and a trailing slash do not matter; the scope is echoed.
        List<JsonNode> surfaces = propositions("ds", body("", null,
                "{\"surfaces\":[\"web://Shop.Example/cart/\",\"mobileapp://com.example.app/home\"]}"));
        assertThat(surfaces).extracting(p -> p.path("scope").asText())
                .containsExactly("web://Shop.Example/cart/", "mobileapp://com.example.app/home");
        assertThat(surfaces.get(0).at("/items/0/schema").asText()).isEqualTo(REDIRECT);
        assertThat(surfaces.get(0).at("/items/0/data/content").asText()).isEqualTo("https://shop.example/cart2");

        assertThat(propositions("ds", body("", null, "{\"decisionScopes\":[]}"))).isEmpty();
        // No personalization query at all: no handle.
        HttpResponse<String> plain = edge.postJson("/ee/v2/interact?datastreamId=ds",
                "{\"event\":{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"}}}");
        assertThat(plain.body()).doesNotContain("personalization:decisions");
    }

    @Test
    void theRequestLevelQueryServesMobileSdkBatchesAndSchemasFilterItems() throws Exception {
        // v1 interact with the query at request level, as some clients send it.
        String v1 = "{\"events\":[{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ECID + "\"}]}}}],"
                + "\"query\":{\"personalization\":{\"schemas\":[\"" + JSON + "\"],\"decisionScopes\":[\"__view__\",\"checkout-offer\"]}}}";
        List<JsonNode> got = propositions(edge.postJson("/ee/v1/interact?configId=ds", v1));
        // The html offer is filtered out by schema; the view's dom-action too, so the json fallback answers.
        assertThat(got).extracting(p -> p.at("/scopeDetails/activity/id").asText()).containsExactly("view-fallback");
    }

    @Test
    void audienceOperatorsMustAllHold() throws Exception {
        String query = "{\"decisionScopes\":[\"ops\"]}";
        String matching = "{\"tier\":\"gold\",\"cartValue\":250,\"coupon\":\"X\",\"campaign\":\"spring-sale\"}";
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri("/ee/v2/interact?datastreamId=ds"))
                .header("content-type", "application/json").header("user-agent", "Mozilla/5.0 TestAgent");
        assertThat(propositions(edge.send(request.copy().POST(HttpRequest.BodyPublishers.ofString(
                body("\"device\":{\"type\":\"mobile\"}", matching, query)))))).hasSize(1);
        for (String data : List.of(
                "{\"tier\":\"silver\",\"cartValue\":250,\"coupon\":\"X\",\"campaign\":\"spring-sale\"}",
                "{\"tier\":\"gold\",\"cartValue\":50,\"coupon\":\"X\",\"campaign\":\"spring-sale\"}",
                "{\"tier\":\"gold\",\"cartValue\":5000,\"coupon\":\"X\",\"campaign\":\"spring-sale\"}",
                "{\"tier\":\"gold\",\"cartValue\":250,\"campaign\":\"spring-sale\"}",
                "{\"tier\":\"gold\",\"cartValue\":250,\"coupon\":\"X\",\"campaign\":\"autumn\"}")) {
            assertThat(propositions(edge.send(request.copy().POST(HttpRequest.BodyPublishers.ofString(
                    body("", data, query)))))).as(data).isEmpty();
        }
        assertThat(propositions(edge.send(request.copy().POST(HttpRequest.BodyPublishers.ofString(
                body("\"device\":{\"type\":\"tablet\"}", matching, query)))))).as("notEquals").isEmpty();
        HttpRequest.Builder otherAgent = HttpRequest.newBuilder(edge.uri("/ee/v2/interact?datastreamId=ds"))
                .header("content-type", "application/json").header("user-agent", "curl/8");
        assertThat(propositions(edge.send(otherAgent.POST(HttpRequest.BodyPublishers.ofString(
                body("", matching, query)))))).as("context.userAgent").isEmpty();
    }

    @Test
    void noDecisionsWhenConsentIsPendingOrOut() throws Exception {
        String query = "{\"decisionScopes\":[\"checkout-offer\"]}";
        assertThat(propositions("held", body("", null, query))).as("pending").isEmpty();

        HttpResponse<String> out = edge.postJson("/ee/v1/privacy/set-consent?configId=ds",
                "{\"identityMap\":{\"ECID\":[{\"id\":\"" + ECID + "\"}]},\"consent\":[{\"standard\":\"Adobe\",\"version\":\"1.0\","
                        + "\"value\":{\"general\":\"out\"}}]}");
        assertThat(out.statusCode()).as(out.body()).isEqualTo(200);
        assertThat(propositions("ds", body("", null, query))).as("out").isEmpty();
        // Another visitor, consent in by default, still gets it.
        String other = body("", null, query).replace(ECID, "98765432109876543210987654321098765432");
        assertThat(propositions("ds", other)).hasSize(1);
    }
}
