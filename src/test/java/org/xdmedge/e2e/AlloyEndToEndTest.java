package org.xdmedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.e2e.AlloyDriver.alloy;
import static org.xdmedge.e2e.AlloyDriver.cookies;
import static org.xdmedge.e2e.AlloyDriver.gotoPage;
import static org.xdmedge.e2e.AlloyDriver.reload;
import static org.xdmedge.e2e.AlloyDriver.step;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.RequiredPart;
import org.xdmedge.testing.TestCertificate;
import org.xdmedge.testing.TestEdge;
import org.xdmedge.testing.TestPageServer;

/**
 * The real Web SDK (alloy, pinned in src/test/e2e/package.json) in Debian's headless Chromium
 * against a real xdm-edge over TLS. alloy only calls {@code https://<edgeDomain>/ee/...} with a
 * bare host name, so Chromium maps made-up names to the loopback servers and refuses every other
 * name ({@code MAP * ~NOTFOUND}): nothing leaves the machine. Assertions are on what the server
 * stored and counted, as well as on what alloy resolved.
 */
class AlloyEndToEndTest {
    static final String ORG = TestEdge.ORG;
    static final String IDENTITY_COOKIE = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity";
    static final String CONSENT_COOKIE = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent";
    static final String CONFIG = """
            server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: web
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                allowedDatasets: [web-overrides]
              - id: held
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: held-events
                consent: { default: pending }
              - id: shop
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: shop-events
                cookieDomain: shop.test
            """;
    /** A site and an edge on different sites, and a shop whose edge is a first-party name under its own domain. */
    static final String PAGE = "https://page.test/";
    static final String SHOP_PAGE = "https://www.shop.test/";

    @TempDir
    static Path dir;
    static TestEdge edge;
    static TestPageServer pages;
    static AlloyDriver browser;

    static String missing;

    @BeforeAll
    static void start() throws Exception {
        missing = AlloyDriver.missingPrerequisite();
        if (missing != null) {
            System.err.println("AlloyEndToEndTest: the alloy end-to-end tests cannot run: " + missing);
            return;
        }
        TestCertificate cert = TestCertificate.create(dir.resolve("tls"), "edge.test", "page.test", "www.shop.test",
                "edge.shop.test");
        edge = TestEdge.start(CONFIG, dir.resolve("data"), cert);
        pages = TestPageServer.start(cert, AlloyDriver.ALLOY_SCRIPT);
        String rules = "MAP edge.test 127.0.0.1:" + edge.port() + ", MAP edge.shop.test 127.0.0.1:" + edge.port()
                + ", MAP page.test 127.0.0.1:" + pages.port() + ", MAP www.shop.test 127.0.0.1:" + pages.port()
                + ", MAP * ~NOTFOUND";
        Files.createDirectories(dir.resolve("runs"));
        browser = new AlloyDriver(rules, dir.resolve("runs"));
    }

    /**
     * Each test reports the skip (or, with CI=true, the failure) and its reason (an aborted
     * @BeforeAll would show as "0 tests run").
     */
    @BeforeEach
    void requirePrerequisites() {
        RequiredPart.assumeOrFail(missing == null, "the alloy end-to-end tests cannot run: " + missing);
    }

    @AfterAll
    static void stop() {
        if (pages != null) {
            pages.close();
        }
        if (edge != null) {
            edge.close();
        }
    }

    static Map<String, Object> configure(String datastreamId, String edgeDomain, Object... extra) {
        Map<String, Object> options = step("datastreamId", datastreamId, "orgId", ORG, "edgeDomain", edgeDomain,
                "thirdPartyCookiesEnabled", false, "debugEnabled", true);
        options.putAll(step(extra));
        return alloy("configure", options);
    }

    static Map<String, Object> pageView(String scenario) {
        return alloy("sendEvent", step("xdm", step("eventType", "web.webpagedetails.pageViews"),
                "data", step("scenario", scenario)));
    }

    @Test
    void firstPageViewWritesTheIdentityCookieAndAReloadAnswersGetIdentityFromIt() throws Exception {
        Map<String, Double> before = requestCounts();
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("web", "edge.test"), pageView("first-view"),
                alloy("getIdentity", step()), cookies(),
                reload(), configure("web", "edge.test"), alloy("getIdentity", step()), cookies()));

        String ecid = run.value(3).path("identity").path("ECID").asText();
        assertThat(ecid).as(run.diagnostics()).matches("[0-9]{38}");
        assertThat(run.value(3).path("edge").path("regionId").asInt()).as("region from x-adobe-edge").isEqualTo(9);
        assertThat(cookie(run.result(4).asText(), IDENTITY_COOKIE)).isNotNull();
        // After the reload alloy decodes the protobuf cookie itself: same ECID, no request.
        assertThat(run.value(7).path("identity").path("ECID").asText()).isEqualTo(ecid);
        assertThat(run.requests()).as(run.diagnostics()).hasSize(1);
        assertThat(run.requests().get(0).path("url").asText()).startsWith("https://edge.test/ee/v1/interact?configId=web");

        Map<String, Double> after = requestCounts();
        assertThat(delta(before, after, "v1_interact", 200)).isEqualTo(1);
        assertThat(delta(before, after, "v1_identity_acquire", 200)).isZero();

        List<JsonNode> stored = stored("first-view");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).at("/primaryIdentity/namespace").asText()).isEqualTo("ECID");
        assertThat(stored.get(0).at("/primaryIdentity/id").asText()).isEqualTo(ecid);
        assertThat(stored.get(0).at("/event/xdm/implementationDetails/name").asText())
                .isEqualTo("https://ns.adobe.com/experience/alloy");
        assertThat(stored.get(0).at("/event/xdm/web/webPageDetails/URL").asText()).isEqualTo(PAGE);
    }

    @Test
    void sendEventWithAnIdentityMapStoresTheMarkedPrimaryAndTheEcid() throws Exception {
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("web", "edge.test"),
                alloy("sendEvent", step("xdm", step("eventType", "commerce.purchases",
                        "identityMap", step("CRMID", List.of(step("id", "crm-4711", "authenticatedState", "authenticated",
                                "primary", true)))), "data", step("scenario", "identity-map"))),
                alloy("getIdentity", step())));
        run.value(2);
        String ecid = run.value(3).path("identity").path("ECID").asText();

        List<JsonNode> stored = stored("identity-map");
        assertThat(stored).hasSize(1);
        JsonNode event = stored.get(0);
        assertThat(event.at("/primaryIdentity/namespace").asText()).isEqualTo("CRMID");
        assertThat(event.at("/primaryIdentity/id").asText()).isEqualTo("crm-4711");
        assertThat(event.at("/event/xdm/identityMap/CRMID/0/authenticatedState").asText()).isEqualTo("authenticated");
        assertThat(event.at("/event/xdm/identityMap/ECID/0/id").asText()).isEqualTo(ecid);
        assertThat(event.at("/event/xdm/identityMap/ECID/0/primary").asBoolean()).isFalse();
    }

    @Test
    void documentUnloadingEventsArriveAsBeaconsOnCollect() throws Exception {
        Map<String, Double> before = requestCounts();
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("web", "edge.test"), pageView("unload-first"),
                alloy("sendEvent", step("documentUnloading", true,
                        "xdm", step("eventType", "web.webinteraction.linkClicks"), "data", step("scenario", "unload")))));
        run.value(2);
        run.value(3);

        List<JsonNode> stored = awaitStored("unload", 1);
        assertThat(stored).as(run.diagnostics()).hasSize(1);
        String ecid = stored("unload-first").get(0).at("/primaryIdentity/id").asText();
        assertThat(stored.get(0).at("/primaryIdentity/id").asText()).isEqualTo(ecid);
        assertThat(stored.get(0).at("/event/xdm/eventType").asText()).isEqualTo("web.webinteraction.linkClicks");

        Map<String, Double> after = requestCounts();
        assertThat(delta(before, after, "v1_collect", 204)).isEqualTo(1);
        assertThat(delta(before, after, "v1_interact", 200)).isEqualTo(1);
        assertThat(run.requests("/v1/collect")).as(run.diagnostics()).hasSize(1).allSatisfy(r -> assertThat(r.path("resourceType").asText()).isEqualTo("ping"));
    }

    @Test
    void anEdgeOnAnotherSiteGetsTheStateInTheBody() throws Exception {
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("web", "edge.test"), pageView("third-party-1"), pageView("third-party-2")));
        run.value(2);
        run.value(3);
        List<JsonNode> interacts = run.requests("/v1/interact");
        assertThat(interacts).as(run.diagnostics()).hasSize(2);

        String issued = stateItem(interacts.get(0).path("responseBody").asText(), IDENTITY_COOKIE);
        assertThat(issued).isNotNull();
        JsonNode second = TestEdge.json(interacts.get(1).path("body").asText());
        assertThat(second.at("/meta/state/domain").asText()).isEqualTo("page.test");
        assertThat(entry(second.at("/meta/state/entries"), IDENTITY_COOKIE)).isEqualTo(issued);
        assertThat(interacts.get(1).path("headers").path("cookie").asText("")).doesNotContain("kndctr_");
        // Known identity: the item is not issued again.
        assertThat(stateItem(interacts.get(1).path("responseBody").asText(), IDENTITY_COOKIE)).isNull();

        String ecid = stored("third-party-1").get(0).at("/primaryIdentity/id").asText();
        assertThat(stored("third-party-2").get(0).at("/primaryIdentity/id").asText()).isEqualTo(ecid);
    }

    @Test
    void aFirstPartyEdgeGetsTheStateAsCookiesAndSetsThemItself() throws Exception {
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(SHOP_PAGE), configure("shop", "edge.shop.test"), pageView("first-party-1"),
                pageView("first-party-2"), cookies()));
        run.value(2);
        run.value(3);
        List<JsonNode> interacts = run.requests("/v1/interact");
        assertThat(interacts).as(run.diagnostics()).hasSize(2);
        assertThat(interacts.get(0).path("url").asText()).startsWith("https://edge.shop.test/ee/");

        String issued = stateItem(interacts.get(0).path("responseBody").asText(), IDENTITY_COOKIE);
        assertThat(interacts.get(0).path("responseHeaders").path("set-cookie").asText())
                .contains(IDENTITY_COOKIE + "=" + issued).contains("Domain=shop.test").contains("SameSite=None");
        JsonNode second = TestEdge.json(interacts.get(1).path("body").asText());
        assertThat(second.at("/meta/state/domain").asText()).isEqualTo("shop.test");
        assertThat(second.at("/meta/state/entries").isMissingNode()).as("alloy sends no entries to a first-party edge").isTrue();
        assertThat(cookie(interacts.get(1).path("headers").path("cookie").asText(""), IDENTITY_COOKIE)).isEqualTo(issued);
        // The edge read the identity from the Cookie header: same visitor, identity item not issued again.
        assertThat(stateItem(interacts.get(1).path("responseBody").asText(), IDENTITY_COOKIE)).isNull();
        assertThat(interacts.get(1).path("responseHeaders").path("set-cookie").asText()).doesNotContain(IDENTITY_COOKIE);
        assertThat(cookie(run.result(4).asText(), IDENTITY_COOKIE)).isEqualTo(issued);

        List<JsonNode> first = stored("first-party-1");
        assertThat(first).hasSize(1);
        assertThat(first.get(0).path("dataset").asText()).isEqualTo("shop-events");
        assertThat(stored("first-party-2").get(0).at("/primaryIdentity/id").asText())
                .isEqualTo(first.get(0).at("/primaryIdentity/id").asText());
    }

    static Map<String, Object> setConsent(String general) {
        return alloy("setConsent", step("consent", List.of(step("standard", "Adobe", "version", "1.0",
                "value", step("general", general)))));
    }

    @Test
    void setConsentInThenOutStopsCollectionInTheBrowserAndOnTheServer() throws Exception {
        Map<String, Double> before = requestCounts();
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("web", "edge.test"), setConsent("in"), pageView("consent-in"), cookies(),
                setConsent("out"), pageView("consent-after-out"), cookies()));
        run.value(2);
        run.value(3);
        assertThat(cookie(run.result(4).asText(), CONSENT_COOKIE)).isEqualTo("general=in");
        run.value(5);
        // alloy settles a sendEvent after an opt-out without sending it (it logs "declined consent").
        assertThat(run.result(6).has("value") || run.result(6).has("error")).as(run.diagnostics()).isTrue();
        assertThat(run.requests("/v1/interact")).as(run.diagnostics()).hasSize(1);
        assertThat(cookie(run.result(7).asText(), CONSENT_COOKIE)).isEqualTo("general=out");

        List<JsonNode> stored = stored("consent-in");
        assertThat(stored).hasSize(1);
        assertThat(stored("consent-after-out")).isEmpty();
        Map<String, Double> after = requestCounts();
        assertThat(delta(before, after, "v1_set_consent", 200)).isEqualTo(2);
        assertThat(delta(before, after, "v1_interact", 200)).isEqualTo(1);

        // The refusal is kept by the server for this ECID, not only in the browser's cookie: the same
        // visitor's identity state without any consent state still stores nothing.
        String identity = cookie(run.result(7).asText(), IDENTITY_COOKIE);
        HttpResponse<String> replay = edge.post("/ee/v1/interact?configId=web", "text/plain",
                "{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"},\"data\":{\"scenario\":\"replay-after-out\"}}],"
                        + "\"meta\":{\"state\":{\"entries\":[{\"key\":\"" + IDENTITY_COOKIE + "\",\"value\":\"" + identity + "\"}]}}}");
        assertThat(replay.statusCode()).isEqualTo(200);
        assertThat(replay.body()).contains("EXEG-0301-200");
        assertThat(stored("replay-after-out")).isEmpty();
    }

    @Test
    void pendingConsentHoldsEventsUntilSetConsentIn() throws Exception {
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("held", "edge.test", "defaultConsent", "pending"),
                AlloyDriver.startAlloy("held", "sendEvent", step("xdm", step("eventType", "web.webpagedetails.pageViews"),
                        "data", step("scenario", "pending-held"))),
                // Only shows that nothing goes out while pending; a slow machine cannot make it fail.
                AlloyDriver.pause(1500), cookies(),
                setConsent("in"), AlloyDriver.awaitStarted("held", 30_000)));
        assertThat(cookie(run.result(4).asText(), IDENTITY_COOKIE)).isNull();
        run.value(5);
        run.value(6);

        List<JsonNode> requests = run.requests();
        assertThat(requests).as(run.diagnostics()).hasSize(2);
        assertThat(requests.get(0).path("url").asText()).contains("/v1/privacy/set-consent");
        assertThat(requests.get(1).path("url").asText()).contains("/v1/interact");
        List<JsonNode> stored = stored("pending-held");
        assertThat(stored).hasSize(1);
        assertThat(stored.get(0).path("dataset").asText()).isEqualTo("held-events");
    }

    @Test
    void getIdentityAsTheFirstCommandAcquiresAnIdentityTheNextEventUses() throws Exception {
        Map<String, Double> before = requestCounts();
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE), configure("web", "edge.test"), alloy("getIdentity", step()), cookies(),
                pageView("after-acquire"), alloy("getIdentity", step())));
        String ecid = run.value(2).path("identity").path("ECID").asText();
        assertThat(ecid).matches("[0-9]{38}");
        assertThat(run.value(2).path("edge").path("regionId").asInt()).isEqualTo(9);
        assertThat(cookie(run.result(3).asText(), IDENTITY_COOKIE)).isNotNull();
        run.value(4);
        assertThat(run.value(5).path("identity").path("ECID").asText()).isEqualTo(ecid);

        List<JsonNode> requests = run.requests();
        assertThat(requests).as(run.diagnostics()).hasSize(2);
        assertThat(requests.get(0).path("url").asText()).contains("/v1/identity/acquire");
        Map<String, Double> after = requestCounts();
        assertThat(delta(before, after, "v1_identity_acquire", 200)).isEqualTo(1);
        assertThat(stored("after-acquire").get(0).at("/primaryIdentity/id").asText()).isEqualTo(ecid);
    }

    @Test
    void edgeConfigOverridesPickAnAllowedDatasetAndRefuseOthers() throws Exception {
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage(PAGE),
                configure("web", "edge.test", "edgeConfigOverrides", step("com_adobe_experience_platform",
                        step("datasets", step("event", step("datasetId", "web-overrides"))))),
                pageView("override"),
                alloy("sendEvent", step("xdm", step("eventType", "web.webpagedetails.pageViews"),
                        "data", step("scenario", "override-denied"),
                        "edgeConfigOverrides", step("com_adobe_experience_platform",
                                step("datasets", step("event", step("datasetId", "somebody-elses")))))),
                pageView("override-3")));
        run.value(2);
        assertThat(run.result(3).path("error").asText()).as(run.diagnostics()).contains("EXEG-0113-400");
        run.value(4);

        JsonNode overridden = stored("override").get(0);
        assertThat(overridden.path("dataset").asText()).isEqualTo("web-overrides");
        assertThat(stored("override-denied")).isEmpty();
        assertThat(stored("override-3").get(0).path("dataset").asText()).isEqualTo("web-overrides");
        JsonNode body = TestEdge.json(run.requests("/v1/interact").get(0).path("body").asText());
        assertThat(body.at("/meta/configOverrides/com_adobe_experience_platform/datasets/event/datasetId").asText())
                .isEqualTo("web-overrides");
    }

    // ---- helpers ----

    static List<JsonNode> stored(String scenario) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode line : edge.exported()) {
            if (scenario.equals(line.at("/event/data/scenario").asText())) {
                out.add(line);
            }
        }
        return out;
    }

    /** Beacons are fire-and-forget: wait (bounded) until the server has stored them. */
    static List<JsonNode> awaitStored(String scenario, int count) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        List<JsonNode> found = stored(scenario);
        while (found.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(100);
            found = stored(scenario);
        }
        return found;
    }

    private static final Pattern COUNT = Pattern.compile(
            "^xdmedge_requests_seconds_count\\{action=\"([^\"]+)\",status=\"([0-9]+)\",?}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE);

    /** Requests the server answered, by action and status, from its own metrics. */
    static Map<String, Double> requestCounts() throws Exception {
        HttpResponse<String> res = edge.get("/metrics");
        Map<String, Double> counts = new HashMap<>();
        Matcher m = COUNT.matcher(res.body());
        while (m.find()) {
            counts.put(m.group(1) + "|" + m.group(2), Double.parseDouble(m.group(3)));
        }
        return counts;
    }

    static int delta(Map<String, Double> before, Map<String, Double> after, String action, int status) {
        String key = action + "|" + status;
        return (int) Math.round(after.getOrDefault(key, 0.0) - before.getOrDefault(key, 0.0));
    }

    static String cookie(String header, String name) {
        for (String pair : header.split(";")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                return pair.substring(eq + 1).trim();
            }
        }
        return null;
    }

    static String stateItem(String responseBody, String key) throws Exception {
        for (JsonNode handle : TestEdge.json(responseBody).path("handle")) {
            if (handle.path("type").asText().equals("state:store")) {
                for (JsonNode item : handle.path("payload")) {
                    if (item.path("key").asText().equals(key)) {
                        return item.path("value").asText();
                    }
                }
            }
        }
        return null;
    }

    static String entry(JsonNode entries, String key) {
        for (JsonNode e : entries) {
            if (e.path("key").asText().equals(key)) {
                return e.path("value").asText();
            }
        }
        return null;
    }
}
