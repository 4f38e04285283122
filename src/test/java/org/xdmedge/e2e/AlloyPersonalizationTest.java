package org.xdmedge.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.e2e.AlloyDriver.alloy;
import static org.xdmedge.e2e.AlloyDriver.gotoPage;
import static org.xdmedge.e2e.AlloyDriver.html;
import static org.xdmedge.e2e.AlloyDriver.step;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * The real Web SDK in Chromium renders what xdm-edge decides: a {@code __view__} dom-action goes
 * into the page, a named scope's proposition comes back from {@code sendEvent}, and alloy's display
 * notification is stored by the edge like any event.
 */
class AlloyPersonalizationTest {
    static final String CONFIG = """
            server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: web
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                personalization:
                  activities:
                    - id: hero-banner
                      scope: __view__
                      audience:
                        - { field: xdm.web.webPageDetails.URL, op: startsWith, value: "https://page.test/" }
                      experiences:
                        - id: sale
                          weight: 100
                          items:
                            - { type: dom-action, action: setHtml, selector: "h1", content: "<b>Sale</b>" }
                    - id: offer
                      scope: checkout-offer
                      experiences:
                        - { id: only, weight: 100, items: [ { type: html, content: "<p>Free shipping</p>" } ] }
            """;

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
            System.err.println("AlloyPersonalizationTest: skipping: " + missing);
            return;
        }
        TestCertificate cert = TestCertificate.create(dir.resolve("tls"), "edge.test", "page.test");
        edge = TestEdge.start(CONFIG, dir.resolve("data"), cert);
        pages = TestPageServer.start(cert, AlloyDriver.ALLOY_SCRIPT);
        String rules = "MAP edge.test 127.0.0.1:" + edge.port() + ", MAP page.test 127.0.0.1:" + pages.port()
                + ", MAP * ~NOTFOUND";
        Files.createDirectories(dir.resolve("runs"));
        browser = new AlloyDriver(rules, dir.resolve("runs"));
    }

    @BeforeEach
    void requirePrerequisites() {
        RequiredPart.assumeOrFail(missing == null, "the alloy personalization tests cannot run: " + missing);
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

    @Test
    void alloyRendersTheViewResolvesTheNamedScopeAndItsDisplayNotificationIsStored() throws Exception {
        AlloyDriver.Run run = browser.run(List.of(
                gotoPage("https://page.test/"),
                alloy("configure", step("datastreamId", "web", "orgId", TestEdge.ORG, "edgeDomain", "edge.test",
                        "thirdPartyCookiesEnabled", false, "debugEnabled", true)),
                alloy("sendEvent", step("renderDecisions", true, "decisionScopes", List.of("checkout-offer"),
                        "xdm", step("eventType", "web.webpagedetails.pageViews"))),
                html("h1"),
                alloy("getIdentity", step())));

        JsonNode result = run.value(2);
        List<String> scopes = new ArrayList<>();
        result.path("propositions").forEach(p -> scopes.add(p.path("scope").asText()));
        assertThat(scopes).as(run.diagnostics()).containsExactlyInAnyOrder("__view__", "checkout-offer");
        JsonNode offer = null;
        for (JsonNode p : result.path("propositions")) {
            if (p.path("scope").asText().equals("checkout-offer")) {
                offer = p;
            } else {
                assertThat(p.path("renderAttempted").asBoolean()).as("__view__ is rendered").isTrue();
            }
        }
        assertThat(offer.path("renderAttempted").asBoolean()).isFalse();
        assertThat(offer.at("/items/0/data/content").asText()).isEqualTo("<p>Free shipping</p>");
        assertThat(offer.at("/items/0/schema").asText()).isEqualTo("https://ns.adobe.com/personalization/html-content-item");

        assertThat(run.result(3).asText()).as(run.diagnostics()).isEqualTo("<b>Sale</b>");

        // The interact request asked for __view__ and the named scope, as alloy does.
        JsonNode first = TestEdge.json(run.requests("/v1/interact").get(0).path("body").asText());
        assertThat(first.at("/events/0/query/personalization/decisionScopes").toString())
                .contains("__view__", "checkout-offer");

        String ecid = run.value(4).path("identity").path("ECID").asText();
        JsonNode display = awaitDisplay();
        assertThat(display).as(run.diagnostics()).isNotNull();
        assertThat(display.at("/primaryIdentity/id").asText()).isEqualTo(ecid);
        JsonNode propositions = display.at("/event/xdm/_experience/decisioning/propositions");
        assertThat(propositions).hasSize(1);
        assertThat(propositions.get(0).path("scope").asText()).isEqualTo("__view__");
        assertThat(propositions.get(0).at("/scopeDetails/activity/id").asText()).isEqualTo("hero-banner");
        assertThat(propositions.get(0).at("/scopeDetails/experience/id").asText()).isEqualTo("sale");
        assertThat(display.at("/event/xdm/_experience/decisioning/propositionEventType/display").asInt()).isEqualTo(1);
    }

    /** The display notification goes out after rendering, on its own request: wait (bounded) until it is stored. */
    static JsonNode awaitDisplay() throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            for (JsonNode line : edge.exported()) {
                if (line.at("/event/xdm/eventType").asText().equals("decisioning.propositionDisplay")) {
                    return line;
                }
            }
            Thread.sleep(100);
        }
        return null;
    }
}
