package org.xdmedge.personalization;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.identity.Ecid;
import org.xdmedge.testing.TestEdge;

/** Assignment by weight, the same for a visitor on every node and after a restart. */
class ExperimentAssignmentTest {
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
                    - id: split
                      scope: checkout-offer
                      experiences:
                        - { id: a, weight: 50, items: [ { type: json, content: { v: a } } ] }
                        - { id: b, weight: 50, items: [ { type: json, content: { v: b } } ] }
            """;

    @TempDir
    Path dir;

    @Test
    void tenThousandNewVisitorsSplitFiftyFiftyWithinTwoPoints() {
        int[] weights = {50, 50};
        int a = 0;
        for (int i = 0; i < 10_000; i++) {
            if (Assignment.pick(Assignment.bucket("split", Ecid.mint()), weights) == 0) {
                a++;
            }
        }
        assertThat(a).isBetween(4_800, 5_200);
    }

    @Test
    void weightsAreHonoured() {
        int[] weights = {10, 0, 90};
        int[] seen = new int[3];
        for (int i = 0; i < 10_000; i++) {
            seen[Assignment.pick(Assignment.bucket("w", Ecid.mint()), weights)]++;
        }
        assertThat(seen[1]).isZero();
        assertThat(seen[0]).isBetween(800, 1_200);
        assertThat(Assignment.bucket("w", "12345678901234567890123456789012345678"))
                .isEqualTo(Assignment.bucket("w", "12345678901234567890123456789012345678"))
                .isNotEqualTo(Assignment.bucket("other", "12345678901234567890123456789012345678"));
    }

    @Test
    void aVisitorSeesTheSameExperienceOnTwoNodesAndAfterARestart() throws Exception {
        List<String> ecids = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ecids.add(Ecid.mint());
        }
        List<String> first;
        List<String> second;
        try (TestEdge one = TestEdge.start(CONFIG, dir.resolve("one")); TestEdge two = TestEdge.start(CONFIG, dir.resolve("two"))) {
            first = experiences(one, ecids);
            second = experiences(two, ecids);
        }
        List<String> restarted;
        try (TestEdge again = TestEdge.start(CONFIG, dir.resolve("one"))) {
            restarted = experiences(again, ecids);
        }
        assertThat(first).doesNotContainNull().contains("a", "b");
        assertThat(second).isEqualTo(first);
        assertThat(restarted).isEqualTo(first);
    }

    private static List<String> experiences(TestEdge edge, List<String> ecids) throws Exception {
        List<String> out = new ArrayList<>();
        for (String ecid : ecids) {
            String body = "{\"event\":{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid + "\"}]}},"
                    + "\"query\":{\"personalization\":{\"decisionScopes\":[\"checkout-offer\"]}}}}";
            List<JsonNode> p = PersonalizationHttpTest.propositions(edge.postJson("/ee/v2/interact?datastreamId=ds", body));
            assertThat(p).hasSize(1);
            assertThat(p.get(0).at("/items/0/data/content/v").asText()).isEqualTo(p.get(0).at("/scopeDetails/experience/id").asText());
            out.add(p.get(0).at("/scopeDetails/experience/id").asText());
        }
        return out;
    }
}
