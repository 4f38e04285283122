package org.xdmedge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The consent, FPID and override keys of a datastream are read and checked at start-up. */
class SdkConfigTest {
    private static final String HEAD = """
            identity: { fpidSecret: a-long-enough-secret-value }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                fpidSecret: org-specific-secret-value
            datastreams:
              - id: ds
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
            """;

    @Test
    void readsEveryNewKeyWithDefaults() throws Exception {
        EdgeConfig config = new ConfigLoader().parse(HEAD + """
                    consent: { default: pending, iabVendorId: 42 }
                    allowedDatasets: [a, b]
                    fpidCookie: my_fpid
                """, "test");
        var ds = config.datastreams().get(0);
        assertThat(ds.consent().defaultConsent()).isEqualTo("pending");
        assertThat(ds.consent().iabVendorId()).isEqualTo(42);
        assertThat(ds.allowedDatasets()).containsExactly("a", "b");
        assertThat(ds.fpidCookie()).isEqualTo("my_fpid");
        assertThat(config.identity().fpidSecret()).isEqualTo("a-long-enough-secret-value");
        assertThat(config.organizations().get(0).fpidSecret()).isEqualTo("org-specific-secret-value");

        var defaults = new ConfigLoader().parse(HEAD, "test").datastreams().get(0);
        assertThat(defaults.consent().defaultConsent()).isEqualTo("in");
        assertThat(defaults.consent().iabVendorId()).isEqualTo(565);
        assertThat(defaults.allowedDatasets()).isEmpty();
        assertThat(defaults.fpidCookie()).isNull();
    }

    @Test
    void refusesBadValuesNamingEachKey() {
        assertThatThrownBy(() -> new ConfigLoader().parse(HEAD + """
                    consent: { default: out, iabVendorId: 70000 }
                    allowedDatasets: ["no spaces"]
                    fpidCookie: "bad;name"
                """, "test"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("datastreams[0].consent.default")
                .hasMessageContaining("datastreams[0].consent.iabVendorId")
                .hasMessageContaining("datastreams[0].allowedDatasets[0]")
                .hasMessageContaining("datastreams[0].fpidCookie");
        assertThatThrownBy(() -> new ConfigLoader().parse(HEAD + "    consent: { defualt: in }\n", "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown key");
    }
}
