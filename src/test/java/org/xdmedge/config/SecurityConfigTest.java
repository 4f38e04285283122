package org.xdmedge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.config.AccessType;
import org.xdmedge.testing.TestTokens;

/** The security keys of the configuration are checked at start-up; messages name key and line. */
class SecurityConfigTest {
    static final String ORG = "53A16ACB5CC1D3760A495C99@AdobeOrg";
    static final String ORG_2 = "22222222222222222222AAAA@AdobeOrg";

    @TempDir
    Path dir;

    static EdgeConfig parse(String yaml) throws ConfigException {
        return new ConfigLoader().parse(yaml, "test");
    }

    static String org(String auth) {
        return """
                organizations:
                  - id: %s
                    apiKeys: [ key-1 ]
                    auth:
                %s
                """.formatted(ORG, auth.indent(6).stripTrailing());
    }

    @Test
    void aCompleteSecurityConfigurationIsRead() throws Exception {
        Path jwks = TestTokens.writeJwks(dir.resolve("k.json"), TestTokens.rsa("k1"), TestTokens.ec("k2"));
        EdgeConfig config = parse(org("jwksFile: " + jwks + "\nissuer: https://ims.test\nrequiredScopes: [a, b]") + """
                    rateLimit: { requestsPerSecond: 100, burst: 250 }
                datastreams:
                  - { id: ds, orgId: %s, dataset: events, accessType: authenticated,
                      rateLimit: { requestsPerSecond: 2.5 } }
                  - { id: open, orgId: %s, dataset: events }
                """.formatted(ORG, ORG));
        var org = config.organizations().get(0);
        assertThat(org.apiKeys()).containsExactly("key-1");
        assertThat(org.auth().issuer()).isEqualTo("https://ims.test");
        assertThat(org.auth().requiredScopes()).containsExactly("a", "b");
        assertThat(org.auth().clockSkewSeconds()).isEqualTo(60);
        assertThat(org.rateLimit()).isEqualTo(new RateLimitConfig(100.0, 250));
        assertThat(config.datastreams().get(0).accessType()).isEqualTo(AccessType.AUTHENTICATED);
        assertThat(config.datastreams().get(0).rateLimit()).isEqualTo(new RateLimitConfig(2.5, 3));
        assertThat(config.datastreams().get(1).accessType()).isEqualTo(AccessType.MIXED);
        assertThat(config.datastreams().get(1).rateLimit()).isNull();
    }

    @Test
    void aKeyFileWithoutUsableKeysStopsStartUpNamingKeyAndLine() throws Exception {
        Path file = dir.resolve("not-keys.json");
        Files.writeString(file, "{\"keys\": 3}");
        assertThatThrownBy(() -> parse(org("jwksFile: " + file)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'organizations[0].auth.jwksFile' at line 5")
                .hasMessageContaining(file.toString());
    }

    @Test
    void aMissingKeyFileStopsStartUpNamingKeyAndLine() {
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("missing.json"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'organizations[0].auth.jwksFile' at line 5")
                .hasMessageContaining("cannot read key file");
    }

    @Test
    void relativeKeyFilesAreResolvedAgainstTheConfigurationFolder() throws Exception {
        Files.createDirectories(dir.resolve("keys"));
        TestTokens.writeJwks(dir.resolve("keys/a.json"), TestTokens.rsa("k1"));
        Path file = dir.resolve("edge.yaml");
        Files.writeString(file, org("jwksFile: keys/a.json"));
        EdgeConfig config = new ConfigLoader().load(file);
        assertThat(Path.of(config.organizations().get(0).auth().jwksFile())).isEqualTo(dir.resolve("keys/a.json"));
    }

    @Test
    void keyFilesWithUnusableKeysAreRefused() throws Exception {
        RSAKey rsaPrivate = TestTokens.rsa("private");
        Files.writeString(dir.resolve("private.json"), new JWKSet(rsaPrivate).toString(false));
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("private.json"))))
                .hasMessageContaining("'organizations[0].auth.jwksFile'")
                .hasMessageContaining("private key material")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(rsaPrivate.getPrivateExponent().toString()));

        OctetSequenceKey hmac = new OctetSequenceKeyGenerator(256).keyID("hs").generate();
        Files.writeString(dir.resolve("oct.json"), "{\"keys\":[" + hmac.toJSONString() + "]}");
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("oct.json"))))
                .hasMessageContaining("private key material");
        Files.writeString(dir.resolve("oct-public.json"), "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"x\"}]}");
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("oct-public.json"))))
                .isInstanceOf(ConfigException.class);

        RSAKey weak = new RSAKeyGenerator(1024, true).keyID("weak").generate();
        TestTokens.writeJwks(dir.resolve("weak.json"), weak);
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("weak.json"))))
                .hasMessageContaining("at least 2048 bits");

        TestTokens.writeJwks(dir.resolve("p384.json"), new ECKeyGenerator(Curve.P_384).keyID("p384").generate());
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("p384.json"))))
                .hasMessageContaining("P-256");

        Files.writeString(dir.resolve("junk.json"), "not json");
        assertThatThrownBy(() -> parse(org("jwksFile: " + dir.resolve("junk.json"))))
                .hasMessageContaining("not a JSON Web Key Set");
    }

    @Test
    void authNeedsKeysAndApiKeysNeedAuth() {
        assertThatThrownBy(() -> parse(org("issuer: https://ims.test")))
                .hasMessageContaining("'organizations[0].auth' at line 4: needs 'jwksFile', 'jwksUrl' or both");
        assertThatThrownBy(() -> parse(org("jwksUrl: ftp://keys.test/jwks")))
                .hasMessageContaining("'organizations[0].auth.jwksUrl'").hasMessageContaining("http(s)");
        assertThatThrownBy(() -> parse("""
                organizations:
                  - id: %s
                    apiKeys: [ lonely ]
                """.formatted(ORG)))
                .hasMessageContaining("'organizations[0].apiKeys' at line 3")
                .hasMessageContaining("auth");
        assertThatThrownBy(() -> parse("""
                organizations:
                  - id: %s
                    auth: { jwksUrl: "https://keys.test/jwks" }
                """.formatted(ORG)))
                .hasMessageContaining("'organizations[0].auth' at line 3")
                .hasMessageContaining("no API key");
    }

    @Test
    void anApiKeyBelongsToOneOrganization() {
        assertThatThrownBy(() -> parse("""
                organizations:
                  - id: %s
                    apiKeys: [ secret-client-key ]
                    auth: { jwksUrl: "https://keys.test/a" }
                  - id: %s
                    apiKeys: [ other, secret-client-key ]
                    auth: { jwksUrl: "https://keys.test/b" }
                """.formatted(ORG, ORG_2)))
                .hasMessageContaining("'organizations[1].apiKeys[1]' at line 6")
                .hasMessageContaining("already registered at 'organizations[0].apiKeys[0]'")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret-client-key"));
    }

    @Test
    void badRatesStopStartUpNamingKeyAndLine() {
        assertThatThrownBy(() -> parse("""
                organizations:
                  - id: %s
                    rateLimit: { requestsPerSecond: 0 }
                datastreams:
                  - id: ds
                    orgId: %s
                    dataset: events
                    rateLimit:
                      requestsPerSecond: 5
                      burst: 0
                  - id: ds2
                    orgId: %s
                    dataset: events
                    rateLimit: { burst: 5 }
                """.formatted(ORG, ORG, ORG)))
                .hasMessageContaining("'organizations[0].rateLimit.requestsPerSecond' at line 3: must be above 0")
                .hasMessageContaining("'datastreams[0].rateLimit.burst' at line 10: must be between 1 and")
                .hasMessageContaining("'datastreams[1].rateLimit.requestsPerSecond' at line 14: is required");
        assertThatThrownBy(() -> parse("""
                organizations: [ { id: %s, rateLimit: { requestsPerSecond: fast } } ]
                """.formatted(ORG)))
                .hasMessageContaining("'organizations[0].rateLimit.requestsPerSecond' at line 1");
    }

    @Test
    void anUnknownAccessTypeIsRefused() {
        assertThatThrownBy(() -> parse("""
                organizations: [ { id: %s } ]
                datastreams:
                  - { id: ds, orgId: %s, dataset: events, accessType: public }
                """.formatted(ORG, ORG)))
                .hasMessageContaining("'datastreams[0].accessType' at line 3");
    }

    @Test
    void timingsAreBounded() throws Exception {
        Path jwks = TestTokens.writeJwks(dir.resolve("k.json"), TestTokens.rsa("k1"));
        assertThatThrownBy(() -> parse(org("jwksFile: " + jwks + "\nclockSkewSeconds: -1\njwksCacheSeconds: 0")))
                .hasMessageContaining("'organizations[0].auth.clockSkewSeconds' at line 6")
                .hasMessageContaining("'organizations[0].auth.jwksCacheSeconds' at line 7");
    }
}
