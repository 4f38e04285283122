package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.testing.TestEdge;

/** A datastream with a first-party cookie domain also gets its state items as Set-Cookie. */
class StateSetCookieTest {
    static final String CONFIG = TestEdge.BASIC_CONFIG + """
              - id: first-party
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
                cookieDomain: example.test
            """;
    private static final String EVENT = "{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\"}}],"
            + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}";

    @TempDir
    Path dir;

    @Test
    void stateItemsGoOutAsSecureSameSiteNoneCookiesOnTheConfiguredDomain() throws Exception {
        try (TestEdge edge = TestEdge.start(CONFIG, dir)) {
            HttpResponse<String> res = edge.post("/ee/v1/interact?configId=first-party:prod", "text/plain", EVENT);
            assertThat(res.statusCode()).isEqualTo(200);
            Map<String, String> stored = new HashMap<>();
            for (JsonNode handle : TestEdge.json(res.body()).get("handle")) {
                if (handle.get("type").asText().equals("state:store")) {
                    handle.get("payload").forEach(i -> stored.put(i.get("key").asText(), i.get("value").asText()
                            + "|" + i.get("maxAge").asLong()));
                }
            }
            assertThat(stored).containsKeys("kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity",
                    "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_cluster");

            List<String> cookies = res.headers().allValues("set-cookie");
            assertThat(cookies).hasSize(stored.size());
            for (String cookie : cookies) {
                String[] parts = cookie.split("; ");
                String name = parts[0].substring(0, parts[0].indexOf('='));
                String value = parts[0].substring(parts[0].indexOf('=') + 1);
                String[] expected = stored.get(name).split("\\|");
                assertThat(value).as(name).isEqualTo(expected[0]);
                assertThat(List.of(parts)).as(cookie).contains("Domain=example.test", "Path=/", "Max-Age=" + expected[1],
                        "Secure", "SameSite=None").doesNotContain("HttpOnly");
            }
        }
    }

    @Test
    void withoutACookieDomainStateStaysInTheBody() throws Exception {
        try (TestEdge edge = TestEdge.start(CONFIG, dir)) {
            HttpResponse<String> res = edge.post("/ee/v1/interact?configId=ds", "text/plain", EVENT);
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.body()).contains("state:store");
            assertThat(res.headers().allValues("set-cookie")).isEmpty();
        }
    }

    @Test
    void aCookieDomainMustBeADomainName() {
        for (String bad : new String[] {".example.test", "example.test:443", "localhost", "Example.Test", "exa mple.test"}) {
            String yaml = CONFIG.replace("cookieDomain: example.test", "cookieDomain: \"" + bad + "\"");
            assertThatThrownBy(() -> new ConfigLoader().parse(yaml, "test")).as(bad)
                    .isInstanceOf(ConfigException.class).hasMessageContaining("datastreams[2].cookieDomain");
        }
    }
}
