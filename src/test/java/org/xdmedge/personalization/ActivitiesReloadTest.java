package org.xdmedge.personalization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.testing.TestEdge;

/** The activities file is re-read on change under load; a broken one is refused and the old activities stay. */
class ActivitiesReloadTest {
    static final String ECID = "12345678901234567890123456789012345678";

    @TempDir
    Path dir;

    static String activities(String experience) {
        return """
                activities:
                  - id: offer
                    scope: checkout-offer
                    experiences:
                      - id: %s
                        weight: 100
                        items:
                          - { type: json, content: { v: %s } }
                """.formatted(experience, experience);
    }

    static final String BROKEN = """
            activities:
              - id: offer
                scope: checkout-offer
                experiences:
                  - id: v3
                    weight: 70
                    items:
                      - { type: json, content: { v: v3 } }
            """;

    static String config(String activitiesFile) {
        return """
                server: { region: or2, maxRequestBytes: 65536, eventLoops: 2 }
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: web-events
                    personalization:
                      activitiesFile: %s
                """.formatted(activitiesFile);
    }

    static void replace(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static String experience(HttpResponse<String> res) throws Exception {
        List<JsonNode> p = PersonalizationHttpTest.propositions(res);
        return p.isEmpty() ? null : p.get(0).at("/scopeDetails/experience/id").asText();
    }

    static final String BODY = "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ECID + "\"}]}},"
            + "\"query\":{\"personalization\":{\"decisionScopes\":[\"checkout-offer\"]}}}}";

    @Test
    void aChangedFileTakesEffectUnderLoadAndABrokenOneKeepsTheOldActivities() throws Exception {
        Path file = dir.resolve("activities.yaml");
        Files.writeString(file, activities("v1"));
        try (TestEdge edge = TestEdge.start(config(file.toString()), dir.resolve("data"))) {
            assertThat(experience(edge.postJson("/ee/v2/interact?datastreamId=ds", BODY))).isEqualTo("v1");

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger sent = new AtomicInteger();
            List<String> failures = new CopyOnWriteArrayList<>();
            var seen = ConcurrentHashMap.<String>newKeySet();
            Thread[] load = new Thread[4];
            for (int t = 0; t < load.length; t++) {
                load[t] = new Thread(() -> {
                    while (running.get()) {
                        try {
                            HttpResponse<String> res = edge.postJson("/ee/v2/interact?datastreamId=ds", BODY);
                            String x = experience(res);
                            if (x == null) {
                                failures.add("no proposition: " + res.body());
                            } else {
                                seen.add(x);
                            }
                            sent.incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(String.valueOf(e));
                        }
                    }
                });
                load[t].start();
            }
            try {
                Thread.sleep(300);
                replace(file, activities("v2"));
                await(() -> "v2".equals(experience(edge.postJson("/ee/v2/interact?datastreamId=ds", BODY))));

                Files.writeString(file, BROKEN); // written in place, as an editor might
                await(() -> edge.get("/metrics").body().contains("xdmedge_personalization_reload_failures_total 1.0"));
                Thread.sleep(300);
                assertThat(experience(edge.postJson("/ee/v2/interact?datastreamId=ds", BODY))).isEqualTo("v2");
                assertThat(edge.node().activities().activities("ds")).isEqualTo(1);
                // The same broken bytes are counted once, not at every look.
                edge.node().activities().poll();
                assertThat(edge.get("/metrics").body()).contains("xdmedge_personalization_reload_failures_total 1.0");
            } finally {
                running.set(false);
                for (Thread t : load) {
                    t.join();
                }
            }
            assertThat(failures).isEmpty();
            assertThat(sent.get()).isGreaterThan(20);
            assertThat(seen).contains("v1", "v2").doesNotContain("v3");
        }
    }

    @Test
    void aBrokenFileStopsStartUpNamingKeyAndLine() throws Exception {
        Files.writeString(dir.resolve("activities.yaml"), BROKEN);
        Path configFile = dir.resolve("edge.yaml");
        Files.writeString(configFile, config("activities.yaml")); // relative to the configuration's folder
        assertThatThrownBy(() -> new ConfigLoader().load(configFile))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("datastreams[0].personalization.activitiesFile")
                .hasMessageContaining("'activities[0].experiences' at line 4: the weights add up to 70, not 100");

        Files.writeString(dir.resolve("activities.yaml"), activities("v1").replace("weight: 100", "weight: 100\n        color: red"));
        assertThatThrownBy(() -> new ConfigLoader().load(configFile))
                .hasMessageContaining("unknown key 'activities[0].experiences[0].color' at line 7");

        Files.writeString(dir.resolve("activities.yaml"), activities("v1"));
        assertThat(new ConfigLoader().load(configFile).datastreams().get(0).personalization().activitiesFile())
                .isEqualTo(dir.resolve("activities.yaml").toAbsolutePath().toString());
    }

    @Test
    void inlineActivitiesAreCheckedWithKeyAndLine() {
        String yaml = """
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: web-events
                    personalization:
                      activities:
                        - id: a1
                          scope: __view__
                          audience:
                            - { field: xdm.web.webPageDetails.URL, op: like, value: x }
                          experiences:
                            - id: a
                              weight: 100
                              items:
                                - { type: dom-action, action: explode, selector: "#x", content: y }
                        - id: a1
                          scope: "bad scope"
                          experiences: []
                """;
        assertThatThrownBy(() -> new ConfigLoader().parse(yaml, "test"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'datastreams[0].personalization.activities[0].audience[0].op' at line 12: must be one of")
                .hasMessageContaining("'datastreams[0].personalization.activities[0].experiences[0].items[0].action' at line 17")
                .hasMessageContaining("'datastreams[0].personalization.activities[1].id' at line 18: duplicate activity 'a1'")
                .hasMessageContaining("'datastreams[0].personalization.activities[1].scope' at line 19")
                .hasMessageContaining("'datastreams[0].personalization.activities[1].experiences' at line 20: needs at least one experience");
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(Check check) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s");
            }
            Thread.sleep(50);
        }
    }
}
