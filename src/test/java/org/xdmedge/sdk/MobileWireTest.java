package org.xdmedge.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.sdk.SdkEdge.post;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xdmedge.testing.EdgeHttpTest;
import org.xdmedge.testing.TestEdge;

/** The Mobile SDKs' wire: batched events, request-level identityMap, state with maxAge, streamed answers. */
class MobileWireTest extends EdgeHttpTest {
    private static final String ECID = "01234567890123456789012345678901234567";

    @Override
    protected String config() {
        return SdkEdge.CONFIG;
    }

    /** A body shaped like the Mobile SDKs send: several events, request xdm.identityMap, state entries with maxAge. */
    private static String mobileBody(String streaming) {
        return "{\"xdm\":{\"identityMap\":{\"ECID\":[{\"id\":\"" + ECID + "\",\"authenticatedState\":\"ambiguous\",\"primary\":false}]},"
                + "\"implementationDetails\":{\"name\":\"https://ns.adobe.com/experience/mobilesdk/android\",\"environment\":\"app\"}},"
                + "\"events\":[{\"xdm\":{\"eventType\":\"application.launch\",\"_id\":\"m-1\",\"timestamp\":\"2024-01-01T00:00:00.000Z\"}},"
                + "{\"xdm\":{\"eventType\":\"commerce.productViews\",\"_id\":\"m-2\"},\"data\":{\"sku\":[1,2]}},"
                + "{\"xdm\":{\"eventType\":\"application.close\",\"_id\":\"m-3\","
                + "\"identityMap\":{\"CRMID\":[{\"id\":\"user-9\",\"primary\":true}]}}}],"
                + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}},"
                + "\"meta\":{\"konductorConfig\":{\"streaming\":" + streaming + "},"
                + "\"state\":{\"entries\":[{\"key\":\"kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_cluster\",\"value\":\"or2\",\"maxAge\":1800}]}}}";
    }

    @Test
    void aBatchOfEventsIsStoredWithTheRequestIdentityAndEventScopedHandles() throws Exception {
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds", mobileBody("{\"enabled\":false}"));
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        JsonNode body = TestEdge.json(res.body());
        assertThat(SdkEdge.ecid(body)).isEqualTo(ECID);
        List<Integer> indexes = new ArrayList<>();
        for (JsonNode h : body.path("handle")) {
            if (h.path("type").asText().equals("xdm-edge:event")) {
                indexes.add(h.path("eventIndex").asInt());
                assertThat(h.path("payload").get(0).path("eventId").asText()).isEqualTo("m-" + (h.path("eventIndex").asInt() + 1));
            } else {
                assertThat(h.has("eventIndex")).as("request-scoped %s", h.path("type")).isFalse();
            }
        }
        assertThat(indexes).containsExactly(0, 1, 2);
        for (JsonNode item : SdkEdge.payloads(body, "state:store")) {
            assertThat(item.path("maxAge").asInt()).isPositive();
        }

        List<JsonNode> stored = edge.exported();
        assertThat(stored).extracting(e -> e.path("eventId").asText()).containsExactlyInAnyOrder("m-1", "m-2", "m-3");
        for (JsonNode e : stored) {
            assertThat(e.path("event").path("xdm").path("identityMap").path("ECID").get(0).path("id").asText()).isEqualTo(ECID);
            assertThat(e.path("event").path("xdm").path("implementationDetails").path("environment").asText()).isEqualTo("app");
        }
        JsonNode close = stored.stream().filter(e -> e.path("eventId").asText().equals("m-3")).findFirst().orElseThrow();
        assertThat(close.path("primaryIdentity").path("namespace").asText()).isEqualTo("CRMID");
    }

    @Test
    void streamedAnswersAreRecordSeparatedFragmentsEndedByTheLineFeed() throws Exception {
        HttpResponse<String> plain = post(edge, "/ee/v1/interact?configId=ds", mobileBody("{\"enabled\":false}"));
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds&requestId=r-1",
                mobileBody("{\"enabled\":true,\"recordSeparator\":\"\\u0000\",\"lineFeed\":\"\\n\"}"));
        assertThat(res.statusCode()).isEqualTo(200);
        String text = res.body();
        assertThat(text).startsWith("\u0000").endsWith("\n");
        // Read it as the Android SDK does: split on the line feed, drop the separator's length.
        String[] chunks = text.split("\n");
        assertThat(chunks.length).isGreaterThan(1);
        List<String> types = new ArrayList<>();
        for (String chunk : chunks) {
            assertThat(chunk).startsWith("\u0000");
            JsonNode fragment = TestEdge.json(chunk.substring(1));
            assertThat(fragment.path("requestId").asText()).startsWith("r-1-");
            assertThat(fragment.path("handle").isArray()).isTrue();
            fragment.path("handle").forEach(h -> types.add(h.path("type").asText()));
        }
        List<String> plainTypes = new ArrayList<>();
        TestEdge.json(plain.body()).path("handle").forEach(h -> plainTypes.add(h.path("type").asText()));
        assertThat(types).containsExactlyElementsOf(plainTypes);
    }

    @Test
    void streamedWarningsComeInTheirOwnFragmentAndOtherMarkersWork() throws Exception {
        String body = "{\"events\":[{\"xdm\":{\"eventType\":\"x\"}}],\"meta\":{\"state\":{\"entries\":"
                + "[{\"key\":\"kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_consent\",\"value\":\"general=out\"}]},"
                + "\"konductorConfig\":{\"streaming\":{\"enabled\":true,\"recordSeparator\":\"\\u001e\",\"lineFeed\":\"\\r\\n\"}}}}";
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds", body);
        assertThat(res.statusCode()).isEqualTo(200);
        String[] chunks = res.body().split("\r\n");
        JsonNode last = TestEdge.json(chunks[chunks.length - 1].substring(1));
        assertThat(last.path("warnings").get(0).path("type").asText()).endsWith("EXEG-0301-200");
        assertThat(edge.exported()).isEmpty();
    }

    @Test
    void aLineFeedThatCouldOccurInJsonIsRefused() throws Exception {
        String body = "{\"events\":[{\"xdm\":{}}],\"meta\":{\"konductorConfig\":{\"streaming\":"
                + "{\"enabled\":true,\"recordSeparator\":\"\\u0000\",\"lineFeed\":\"}\"}}}}";
        HttpResponse<String> res = post(edge, "/ee/v1/interact?configId=ds", body);
        assertThat(res.statusCode()).isEqualTo(400);
        assertThat(TestEdge.json(res.body()).path("report").path("errors").get(0).path("path").asText())
                .isEqualTo("meta.konductorConfig.streaming.lineFeed");
        assertThat(edge.exported()).isEmpty();
    }
}
