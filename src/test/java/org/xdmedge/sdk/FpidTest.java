package org.xdmedge.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.xdmedge.sdk.SdkEdge.ecid;
import static org.xdmedge.sdk.SdkEdge.post;
import static org.xdmedge.sdk.SdkEdge.stateItem;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** FPID seeds a deterministic ECID; precedence of spec §2; non-UUID FPIDs are refused. */
class FpidTest extends EdgeHttpTest {
    private static final String FPID = "79bf8e83-f708-414b-b1ed-5789ff33bf0b";
    private static final String OTHER_FPID = "0b5d1c2e-1111-4a2b-9c3d-abcdefabcdef";
    private static final String MAP_ECID = "12345678901234567890123456789012345678";

    @Override
    protected String config() {
        return SdkEdge.CONFIG;
    }

    /** The documented derivation: HMAC-SHA256(secret, org + NUL + lower-case FPID), first two longs, sign bits dropped. */
    private static String expectedEcid(String fpid) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SdkEdge.SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        ByteBuffer d = ByteBuffer.wrap(mac.doFinal((SdkEdge.ORG + "\u0000" + fpid).getBytes(StandardCharsets.UTF_8)));
        return String.format("%019d%019d", d.getLong() & Long.MAX_VALUE, d.getLong() & Long.MAX_VALUE);
    }

    private static String interact(String identityMap, String meta) {
        return "{\"events\":[{\"xdm\":{\"eventType\":\"x\"" + (identityMap == null ? "" : ",\"identityMap\":" + identityMap)
                + "}}],\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}" + (meta == null ? "" : ",\"meta\":" + meta) + "}";
    }

    private static String fpidMap(String fpid) {
        return "{\"FPID\":[{\"id\":\"" + fpid + "\",\"authenticatedState\":\"ambiguous\"}]}";
    }

    private JsonNode ok(HttpResponse<String> res) throws Exception {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        return TestEdge.json(res.body());
    }

    @Test
    void fpidInIdentityMapSeedsTheSameEcidEveryTimeAndAfterARestart() throws Exception {
        JsonNode first = ok(post(edge, "/ee/v1/interact?configId=ds", interact(fpidMap(FPID), null)));
        String ecid = ecid(first);
        assertThat(ecid).isEqualTo(expectedEcid(FPID)).hasSize(38);
        assertThat(stateItem(first, "identity")).isNotNull();
        assertThat(ecid(ok(post(edge, "/ee/v1/interact?configId=ds", interact(fpidMap(FPID.toUpperCase()), null)))))
                .isEqualTo(ecid);
        assertThat(ecid(ok(post(edge, "/ee/v1/interact?configId=ds", interact(fpidMap(OTHER_FPID), null)))))
                .isNotEqualTo(ecid);

        edge.close();
        edge = TestEdge.start(SdkEdge.CONFIG, dir.resolve("elsewhere"));
        assertThat(ecid(ok(post(edge, "/ee/v1/interact?configId=ds", interact(fpidMap(FPID), null))))).isEqualTo(ecid);
        // The stored event keeps its FPID and gains the seeded ECID.
        JsonNode stored = edge.exported().get(0).path("event").path("xdm").path("identityMap");
        assertThat(stored.path("FPID").get(0).path("id").asText()).isEqualTo(FPID);
        assertThat(stored.path("ECID").get(0).path("id").asText()).isEqualTo(ecid);
    }

    @Test
    void fpidCookieSeedsTheEcidAndPrecedenceFollowsTheSpec() throws Exception {
        JsonNode fromCookie = ok(post(edge, "/ee/v1/interact?configId=ds", interact(null, null), "site_fpid=" + FPID));
        assertThat(ecid(fromCookie)).isEqualTo(expectedEcid(FPID));

        // FPID in identityMap > FPID cookie.
        JsonNode mapOverCookie = ok(post(edge, "/ee/v1/interact?configId=ds", interact(fpidMap(OTHER_FPID), null),
                "site_fpid=" + FPID));
        assertThat(ecid(mapOverCookie)).isEqualTo(expectedEcid(OTHER_FPID));

        // Identity state > FPID in identityMap.
        String state = stateItem(fromCookie, "identity").path("value").asText();
        JsonNode stateOverFpid = ok(post(edge, "/ee/v1/interact?configId=ds",
                interact(fpidMap(OTHER_FPID), SdkEdge.meta("identity", state))));
        assertThat(ecid(stateOverFpid)).isEqualTo(expectedEcid(FPID));

        // ECID in identityMap > everything.
        JsonNode ecidFirst = ok(post(edge, "/ee/v1/interact?configId=ds", interact(
                "{\"ECID\":[{\"id\":\"" + MAP_ECID + "\"}],\"FPID\":[{\"id\":\"" + OTHER_FPID + "\"}]}",
                SdkEdge.meta("identity", state)), "site_fpid=" + FPID));
        assertThat(ecid(ecidFirst)).isEqualTo(MAP_ECID);

        // A cookie of another name is not an FPID.
        JsonNode otherCookie = ok(post(edge, "/ee/v1/interact?configId=ds", interact(null, null), "fpid=" + FPID));
        assertThat(ecid(otherCookie)).isNotEqualTo(expectedEcid(FPID));
    }

    @Test
    void nonUuidFpidIsRefusedWith0308AndNothingIsStored() throws Exception {
        HttpResponse<String> map = post(edge, "/ee/v1/interact?configId=ds", interact(fpidMap("user-42"), null));
        assertThat(map.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(map.body()).path("type").asText()).endsWith("EXEG-0308-400");
        HttpResponse<String> cookie = post(edge, "/ee/v1/interact?configId=ds", interact(null, null), "site_fpid=nope");
        assertThat(cookie.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(cookie.body()).path("type").asText()).endsWith("EXEG-0308-400");
        HttpResponse<String> batch = edge.postJson("/ee/v2/collect?datastreamId=ds",
                "{\"events\":[{\"xdm\":{\"identityMap\":{\"FPID\":[{\"id\":\"not-a-uuid\",\"primary\":true}]}}}]}");
        assertThat(batch.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(batch.body()).path("type").asText()).endsWith("EXEG-0308-400");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void anFpidCookieWithoutAnySecretRefusesToStart() {
        String config = """
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                datastreams:
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: web-events
                    fpidCookie: site_fpid
                """;
        assertThatThrownBy(() -> new ConfigLoader().parse(config, "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("datastreams[0].fpidCookie")
                .hasMessageContaining("FPID secret");
        String shortSecret = config.replace("organizations:\n  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg",
                "organizations:\n  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg\n    fpidSecret: short");
        assertThatThrownBy(() -> new ConfigLoader().parse(shortSecret, "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("organizations[0].fpidSecret");
    }
}
