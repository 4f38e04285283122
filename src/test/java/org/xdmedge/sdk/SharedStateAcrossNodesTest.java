package org.xdmedge.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.sdk.SdkEdge.adobe1;
import static org.xdmedge.sdk.SdkEdge.consentBody;
import static org.xdmedge.sdk.SdkEdge.ecid;
import static org.xdmedge.sdk.SdkEdge.interactBody;
import static org.xdmedge.sdk.SdkEdge.meta;
import static org.xdmedge.sdk.SdkEdge.post;
import static org.xdmedge.sdk.SdkEdge.stateItem;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.RedisTestServer;
import org.xdmedge.testing.TestEdge;

/** Two nodes with their own data directories sharing a real Redis: any node serves any visitor. */
class SharedStateAcrossNodesTest {
    @TempDir
    Path dir;

    private static JsonNode ok(HttpResponse<String> res) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        return TestEdge.json(res.body());
    }

    private static String general(JsonNode body) {
        JsonNode item = stateItem(body, "consent");
        return item == null ? null : item.path("value").asText();
    }

    @Test
    void consentSetThroughOneNodeIsEnforcedByTheOtherAndAnFpidGivesTheSameEcidOnBoth() throws Exception {
        try (RedisTestServer redis = RedisTestServer.start(dir.resolve("redis"))) {
            String config = SdkEdge.CONFIG + "state: { redis: { url: \"" + redis.url() + "\" } }\n";
            try (TestEdge a = TestEdge.start(config, dir.resolve("a"));
                 TestEdge b = TestEdge.start(config, dir.resolve("b"))) {
                // Opt-out recorded through A.
                JsonNode out = ok(post(a, "/ee/v1/privacy/set-consent?configId=ds", consentBody(adobe1("out"), null)));
                String identity = stateItem(out, "identity").path("value").asText();
                String visitor = ecid(out);

                // B has never seen this visitor, and the request carries no consent cookie: B still knows.
                JsonNode onB = ok(post(b, "/ee/v1/interact?configId=ds", interactBody(meta("identity", identity))));
                assertThat(ecid(onB)).isEqualTo(visitor);
                assertThat(general(onB)).isEqualTo("general=out");
                HttpResponse<String> server = b.postJson("/ee/v2/collect?datastreamId=ds",
                        "{\"events\":[{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + visitor + "\"}]}}}]}");
                assertThat(server.statusCode()).isEqualTo(202);
                assertThat(a.exported()).isEmpty();
                assertThat(b.exported()).isEmpty();

                // Opt-in through B is then honoured by A.
                ok(post(b, "/ee/v1/privacy/set-consent?configId=ds", consentBody(adobe1("in"), meta("identity", identity))));
                JsonNode onA = ok(post(a, "/ee/v1/interact?configId=ds", interactBody(meta("identity", identity))));
                assertThat(general(onA)).isEqualTo("general=in");
                assertThat(a.exported()).hasSize(1);

                // An FPID seeds the same ECID whichever node answers.
                String fpid = "{\"FPID\":[{\"id\":\"5d9b4a6c-3f2e-4d1a-9b8c-7e6f5a4b3c2d\",\"authenticatedState\":\"ambiguous\"}]}";
                String body = "{\"events\":[{\"xdm\":{\"identityMap\":" + fpid + "}}],\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}";
                String fromA = ecid(ok(post(a, "/ee/v1/interact?configId=ds", body)));
                String fromB = ecid(ok(post(b, "/ee/v1/interact?configId=ds", body)));
                assertThat(fromA).matches("[0-9]{38}").isEqualTo(fromB);
            }
        }
    }
}
