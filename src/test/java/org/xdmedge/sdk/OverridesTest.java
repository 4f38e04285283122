package org.xdmedge.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.sdk.SdkEdge.payloads;
import static org.xdmedge.sdk.SdkEdge.post;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** meta.configOverrides: allowed datasets only, enabled:false turns a service off for the request. */
class OverridesTest extends EdgeHttpTest {
    @Override
    protected String config() {
        return SdkEdge.CONFIG;
    }

    private static String withOverrides(String overrides) {
        return "{\"events\":[{\"xdm\":{\"eventType\":\"x\"}}],\"meta\":{\"configOverrides\":" + overrides + "}}";
    }

    @Test
    void anAllowedDatasetOverrideRoutesTheEvents() throws Exception {
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds", withOverrides(
                "{\"com_adobe_experience_platform\":{\"datasets\":{\"event\":{\"datasetId\":\"alt-events\"}}},"
                        + "\"com_adobe_analytics\":{\"reportSuites\":[\"rs1\"]}}"));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        assertThat(TestEdge.exported(dir, "alt-events")).hasSize(1);
        assertThat(TestEdge.exported(dir, "web-events")).isEmpty();
        // The datastream's own dataset is always allowed.
        post(edge, "/ee/v1/interact?configId=ds", withOverrides(
                "{\"com_adobe_experience_platform\":{\"datasets\":{\"event\":{\"datasetId\":\"web-events\"}}}}"));
        assertThat(TestEdge.exported(dir, "web-events")).hasSize(1);
    }

    @Test
    void aDatasetTheDatastreamDoesNotAllowIs0113WithEveryProblem() throws Exception {
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds", withOverrides(
                "{\"com_adobe_experience_platform\":{\"enabled\":\"no\",\"datasets\":{\"event\":{\"datasetId\":\"secret-ds\"},"
                        + "\"profile\":{\"datasetId\":\"other\"}}},\"com_adobe_target\":5}"));
        assertThat(res.statusCode()).isEqualTo(400);
        JsonNode problem = TestEdge.json(res.body());
        assertThat(problem.path("type").asText()).endsWith("EXEG-0113-400");
        assertThat(problem.path("report").path("errors")).extracting(e -> e.path("path").asText()).containsExactlyInAnyOrder(
                "meta.configOverrides.com_adobe_experience_platform.enabled",
                "meta.configOverrides.com_adobe_experience_platform.datasets.event.datasetId",
                "meta.configOverrides.com_adobe_experience_platform.datasets.profile.datasetId",
                "meta.configOverrides.com_adobe_target");
        assertThat(edge.exported()).isEmpty();
        // Another datastream has no allowed datasets at all.
        HttpResponse<String> other = post(edge, "/ee/v1/interact?configId=vendor42", withOverrides(
                "{\"com_adobe_experience_platform\":{\"datasets\":{\"event\":{\"datasetId\":\"alt-events\"}}}}"));
        assertThat(other.statusCode()).isEqualTo(400);
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void platformDisabledForTheRequestStoresNothingButAnswersNormally() throws Exception {
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds",
                "{\"events\":[{\"xdm\":{\"eventType\":\"x\"}}],\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}},"
                        + "\"meta\":{\"configOverrides\":{\"com_adobe_experience_platform\":{\"enabled\":false}}}}");
        assertThat(res.statusCode()).isEqualTo(200);
        JsonNode body = TestEdge.json(res.body());
        assertThat(payloads(body, "identity:result")).hasSize(1);
        assertThat(body.has("warnings")).isFalse();
        JsonNode receipt = payloads(body, "xdm-edge:event").get(0);
        assertThat(receipt.path("stored").asBoolean()).isFalse();
        assertThat(receipt.path("reason").asText()).isEqualTo("platform-disabled");
        HttpResponse<String> batch = edge.postJson("/ee/v2/collect?datastreamId=ds",
                "{\"events\":[{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"u1\",\"primary\":true}]}}}],"
                        + "\"meta\":{\"configOverrides\":{\"com_adobe_experience_platform\":{\"enabled\":false}}}}");
        assertThat(batch.statusCode()).isEqualTo(202);
        assertThat(edge.exported()).isEmpty();
    }
}
