package org.xdmedge.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.testing.TestEdge;

/** Configuration and small helpers shared by the SDK protocol tests. */
final class SdkEdge {
    static final String ORG = TestEdge.ORG;
    static final String PREFIX = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_";
    static final String SECRET = "test-fpid-secret-0123456789";
    static final String CONFIG = """
            server: { region: or2, eventLoops: 2 }
            identity: { fpidSecret: test-fpid-secret-0123456789 }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: ds
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                allowedDatasets: [alt-events]
                fpidCookie: site_fpid
              - id: pending
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                consent: { default: pending }
              - id: vendor42
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                consent: { iabVendorId: 42 }
            """;

    private SdkEdge() {}

    static HttpResponse<String> post(TestEdge edge, String path, String body, String... cookies) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(edge.uri(path)).header("content-type", "text/plain;charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (cookies.length > 0) {
            b.header("cookie", String.join("; ", cookies));
        }
        return edge.send(b);
    }

    /** All payload items of every handle of this type. */
    static List<JsonNode> payloads(JsonNode body, String type) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode h : body.path("handle")) {
            if (h.path("type").asText().equals(type)) {
                h.path("payload").forEach(out::add);
            }
        }
        return out;
    }

    /** The state:store item with this key suffix (identity, consent, ...), or null. */
    static JsonNode stateItem(JsonNode body, String key) {
        for (JsonNode item : payloads(body, "state:store")) {
            if (item.path("key").asText().equals(PREFIX + key)) {
                return item;
            }
        }
        return null;
    }

    static String ecid(JsonNode body) {
        return payloads(body, "identity:result").get(0).path("id").asText();
    }

    /** {@code meta.state.entries} holding these key/value pairs (key suffixes). */
    static String meta(String... keyValues) {
        ObjectNode meta = EdgeJson.MAPPER.createObjectNode();
        ArrayNode entries = meta.putObject("state").putArray("entries");
        for (int i = 0; i < keyValues.length; i += 2) {
            entries.addObject().put("key", PREFIX + keyValues[i]).put("value", keyValues[i + 1]);
        }
        return meta.toString();
    }

    static String consentBody(String consentArray, String meta) {
        return "{\"consent\":" + consentArray + ",\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}"
                + (meta == null ? "" : ",\"meta\":" + meta) + "}";
    }

    static String interactBody(String meta) {
        return "{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"}}],"
                + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}" + (meta == null ? "" : ",\"meta\":" + meta) + "}";
    }

    static String adobe1(String general) {
        return "[{\"standard\":\"Adobe\",\"version\":\"1.0\",\"value\":{\"general\":\"" + general + "\"}}]";
    }

    static String iab(String tc, boolean gdprApplies) {
        return "[{\"standard\":\"IAB TCF\",\"version\":\"2.0\",\"value\":\"" + tc + "\",\"gdprApplies\":" + gdprApplies + "}]";
    }
}
