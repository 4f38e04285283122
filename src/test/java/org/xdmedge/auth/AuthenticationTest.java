package org.xdmedge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestEdge;
import org.xdmedge.testing.TestTokens;

/** Token verification, access types and organization isolation, over HTTP against a real edge. */
class AuthenticationTest {
    static final String ORG_A = TestEdge.ORG;
    static final String ORG_B = "BBBB0000BBBB0000BBBB0000@AdobeOrg";
    static final String KEY_A = "client-a";
    static final String KEY_B = "client-b";
    static final String ISSUER = "https://ims.example.test";
    static final String SCOPE = "edge.write";
    static final String BATCH = """
            {"events":[{"xdm":{"eventType":"server.test","identityMap":{"CRMID":[{"id":"user-1","primary":true}]}}}]}
            """;

    @TempDir
    static Path dir;
    static RSAKey rsaA;
    static ECKey ecA;
    static RSAKey rsaB;
    static TestEdge edge;

    @BeforeAll
    static void start() throws Exception {
        rsaA = TestTokens.rsa("a-rsa");
        ecA = TestTokens.ec("a-ec");
        rsaB = TestTokens.rsa("b-rsa");
        Path jwksA = TestTokens.writeJwks(dir.resolve("a.jwks.json"), rsaA, ecA);
        Path jwksB = TestTokens.writeJwks(dir.resolve("b.jwks.json"), rsaB);
        edge = TestEdge.start("""
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: %s
                    apiKeys: [ %s ]
                    auth:
                      jwksFile: %s
                      issuer: %s
                      requiredScopes: [ %s ]
                      clockSkewSeconds: 30
                  - id: %s
                    apiKeys: [ %s ]
                    auth:
                      jwksFile: %s
                datastreams:
                  - { id: a-mixed, orgId: %s, dataset: a-events }
                  - { id: a-auth, orgId: %s, dataset: a-events, accessType: authenticated }
                  - { id: b-mixed, orgId: %s, dataset: b-events, accessType: mixed }
                  - { id: b-auth, orgId: %s, dataset: b-events, accessType: authenticated }
                  - { id: b-off, orgId: %s, dataset: b-events, enabled: false, accessType: authenticated }
                """.formatted(ORG_A, KEY_A, jwksA, ISSUER, SCOPE, ORG_B, KEY_B, jwksB, ORG_A, ORG_A, ORG_B, ORG_B, ORG_B),
                dir.resolve("data"));
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
    }

    static JWTClaimsSet.Builder claimsA() {
        return TestTokens.claims(ISSUER, KEY_A, "openid " + SCOPE);
    }

    static String tokenA() {
        return TestTokens.sign(rsaA, claimsA().build());
    }

    static HttpResponse<String> collect(String datastream, List<String> headers) throws Exception {
        return call("/ee/v2/collect?datastreamId=" + datastream, BATCH, headers);
    }

    static HttpResponse<String> call(String pathAndQuery, String body, List<String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(pathAndQuery)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.size(); i += 2) {
            request.header(headers.get(i), headers.get(i + 1));
        }
        return edge.send(request);
    }

    static HttpResponse<String> collectA(String token) throws Exception {
        return collect("a-auth", TestTokens.headers(token, KEY_A, ORG_A));
    }

    static void assertProblem(HttpResponse<String> response, String code) throws Exception {
        int status = Integer.parseInt(code.substring(code.lastIndexOf('-') + 1));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = TestEdge.json(response.body());
        assertThat(body.path("type").asText()).isEqualTo("https://ns.adobe.com/aep/errors/EXEG-" + code);
        assertThat(body.path("status").asInt()).isEqualTo(status);
        if (status == 401) {
            assertThat(response.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"xdm-edge\"");
        }
    }

    static long storedFor(String marker) throws Exception {
        return edge.exported().stream().filter(e -> e.toString().contains(marker)).count();
    }

    @Test
    void validRs256AndEs256TokensAreServedAndStored() throws Exception {
        HttpResponse<String> rsa = collectA(tokenA());
        assertThat(rsa.statusCode()).as(rsa.body()).isEqualTo(202);
        HttpResponse<String> ec = collectA(TestTokens.sign(ecA, claimsA().build()));
        assertThat(ec.statusCode()).as(ec.body()).isEqualTo(202);
        String requestId = TestEdge.json(ec.body()).path("requestId").asText();
        assertThat(storedFor(requestId)).isEqualTo(1);
    }

    @Test
    void imsStyleTokenWithCreatedAtAndExpiresInAndCommaScopesIsAccepted() throws Exception {
        JWTClaimsSet ims = new JWTClaimsSet.Builder().issuer(ISSUER).claim("client_id", KEY_A)
                .claim("type", "access_token").claim("scope", "openid,AdobeID," + SCOPE)
                .claim("created_at", Long.toString(System.currentTimeMillis())).claim("expires_in", "86400000").build();
        HttpResponse<String> response = collectA(TestTokens.sign(rsaA, ims));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    }

    @Test
    void tokensTheLibraryCannotParseAreMalformedOnMixedAndAuthenticatedDatastreams() throws Exception {
        // JOSE headers or claims that are JSON null or an array instead of an object
        for (String token : new String[] {"bnVsbA.e30.c2ln", "bnVsbA.bnVsbA.c2ln", "W10.e30.c2ln", "e30.e30.c2ln"}) {
            for (String datastream : new String[] {"a-mixed", "a-auth"}) {
                HttpResponse<String> response = collect(datastream, TestTokens.headers(token, KEY_A, ORG_A));
                assertProblem(response, "0500-401");
                assertThat(TestEdge.json(response.body()).path("detail").asText()).as(token)
                        .contains("not a well-formed JSON Web Token");
            }
        }
    }

    @Test
    void forgedSignatureIsRefusedWith0502() throws Exception {
        RSAKey forger = TestTokens.rsa("a-rsa");  // same kid, different key
        assertProblem(collectA(TestTokens.sign(forger, claimsA().build())), "0502-401");
    }

    @Test
    void tamperedClaimsBreakTheSignature() throws Exception {
        String[] parts = tokenA().split("\\.");
        String otherClaims = TestTokens.sign(rsaA, claimsA().claim("client_id", KEY_B).build()).split("\\.")[1];
        assertProblem(collectA(parts[0] + "." + otherClaims + "." + parts[2]), "0502-401");
    }

    @Test
    void unknownKidIsRefusedWith0502() throws Exception {
        assertProblem(collectA(TestTokens.sign(rsaA, "no-such-kid", claimsA().build())), "0502-401");
    }

    @Test
    void tokenWithoutKidIsCheckedAgainstEveryKeyOfItsAlgorithm() throws Exception {
        HttpResponse<String> ok = collectA(TestTokens.sign(ecA, null, claimsA().build()));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);
        assertProblem(collectA(TestTokens.sign(TestTokens.ec(null), null, claimsA().build())), "0502-401");
    }

    @Test
    void algNoneIsAlwaysRefused() throws Exception {
        String unsigned = new PlainJWT(claimsA().build()).serialize();
        assertProblem(collectA(unsigned), "0502-401");
        // The same, dressed with a kid and the signature part of a real token.
        String header = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"a-rsa\"}").toString();
        String[] real = tokenA().split("\\.");
        HttpResponse<String> dressed = collectA(header + "." + real[1] + "." + real[2]);
        assertThat(dressed.statusCode()).isEqualTo(401);
        assertThat(dressed.body()).containsAnyOf("EXEG-0502-401", "EXEG-0500-401");
    }

    @Test
    void hs256SignedWithThePublicKeyAsSecretIsRefused() throws Exception {
        for (byte[] secret : List.of(rsaA.toRSAPublicKey().getEncoded(),
                rsaA.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8))) {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("a-rsa").build(), claimsA().build());
            try {
                jwt.sign(new MACSigner(secret));
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
            assertProblem(collectA(jwt.serialize()), "0502-401");
        }
    }

    @Test
    void expiredAndNotYetValidTokensAreRefusedWith0503() throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet expired = claimsA().issueTime(Date.from(now.minus(Duration.ofHours(2))))
                .expirationTime(Date.from(now.minus(Duration.ofMinutes(10)))).build();
        assertProblem(collectA(TestTokens.sign(rsaA, expired)), "0503-401");
        JWTClaimsSet early = claimsA().notBeforeTime(Date.from(now.plus(Duration.ofMinutes(10)))).build();
        assertProblem(collectA(TestTokens.sign(rsaA, early)), "0503-401");
    }

    @Test
    void clockSkewToleratesAFewSeconds() throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet justExpired = claimsA().expirationTime(Date.from(now.minusSeconds(5))).build();
        HttpResponse<String> late = collectA(TestTokens.sign(rsaA, justExpired));
        assertThat(late.statusCode()).as(late.body()).isEqualTo(202);
        JWTClaimsSet almostValid = claimsA().notBeforeTime(Date.from(now.plusSeconds(5))).build();
        HttpResponse<String> early = collectA(TestTokens.sign(rsaA, almostValid));
        assertThat(early.statusCode()).as(early.body()).isEqualTo(202);
    }

    @Test
    void tokenWithoutExpiryIsMalformed() throws Exception {
        JWTClaimsSet noExp = new JWTClaimsSet.Builder().issuer(ISSUER).claim("client_id", KEY_A).claim("scope", SCOPE).build();
        assertProblem(collectA(TestTokens.sign(rsaA, noExp)), "0500-401");
    }

    @Test
    void wrongIssuerIsRefusedWith0502() throws Exception {
        assertProblem(collectA(TestTokens.sign(rsaA, claimsA().issuer("https://evil.example.test").build())), "0502-401");
        JWTClaimsSet none = claimsA().issuer(null).build();
        assertProblem(collectA(TestTokens.sign(rsaA, none)), "0502-401");
    }

    @Test
    void clientIdDifferingFromApiKeyIsRefusedWith0500() throws Exception {
        assertProblem(collectA(TestTokens.sign(rsaA, claimsA().claim("client_id", "someone-else").build())), "0500-401");
    }

    @Test
    void apiKeyOfAnotherOrganizationIsRefusedWith0500() throws Exception {
        // B's API key, with a token of A's keys whose client_id matches it: the key is not A's.
        String token = TestTokens.sign(rsaA, claimsA().claim("client_id", KEY_B).build());
        assertProblem(collect("a-auth", TestTokens.headers(token, KEY_B, ORG_A)), "0500-401");
        // B's valid credentials claiming to act for A.
        String tokenB = TestTokens.sign(rsaB, TestTokens.claims(null, KEY_B, "").build());
        assertProblem(collect("a-auth", TestTokens.headers(tokenB, KEY_B, ORG_A)), "0500-401");
    }

    @Test
    void missingScopeIsRefusedWith0505() throws Exception {
        assertProblem(collectA(TestTokens.sign(rsaA, claimsA().claim("scope", "openid").build())), "0505-401");
        assertProblem(collectA(TestTokens.sign(rsaA, claimsA().claim("scope", null).build())), "0505-401");
    }

    @Test
    void eachMissingHeaderIsRefusedWith0500EvenOnAMixedDatastream() throws Exception {
        List<String> all = TestTokens.headers(tokenA(), KEY_A, ORG_A);
        for (String datastream : List.of("a-auth", "a-mixed")) {
            for (int drop = 0; drop < all.size(); drop += 2) {
                List<String> headers = new ArrayList<>(all);
                headers.remove(drop);
                headers.remove(drop);
                HttpResponse<String> response = collect(datastream, headers);
                assertProblem(response, "0500-401");
                assertThat(TestEdge.json(response.body()).path("detail").asText()).containsIgnoringCase(all.get(drop));
            }
        }
    }

    @Test
    void malformedAuthorizationIsRefusedWith0500() throws Exception {
        for (String authorization : List.of("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer not.a.jwt", "Bearer abc")) {
            List<String> headers = List.of("authorization", authorization, "x-api-key", KEY_A, "x-gw-ims-org-id", ORG_A);
            assertProblem(collect("a-mixed", headers), "0500-401");
        }
        assertProblem(collect("a-mixed", TestTokens.headers(tokenA(), KEY_A, "Unknown0000@AdobeOrg")), "0500-401");
    }

    @Test
    void mixedServesAnonymousCallsAuthenticatedRefusesThem() throws Exception {
        HttpResponse<String> mixed = collect("a-mixed", List.of());
        assertThat(mixed.statusCode()).as(mixed.body()).isEqualTo(202);
        HttpResponse<String> refused = collect("a-auth", List.of());
        assertProblem(refused, "0500-401");
        String requestId = TestEdge.json(refused.body()).path("report").path("requestId").asText();
        assertThat(storedFor(requestId)).isZero();
        // Valid credentials work on both kinds.
        HttpResponse<String> authOnMixed = collect("a-mixed", TestTokens.headers(tokenA(), KEY_A, ORG_A));
        assertThat(authOnMixed.statusCode()).as(authOnMixed.body()).isEqualTo(202);
    }

    @Test
    void aBadTokenOnAMixedDatastreamIsNeverServedAsAnonymous() throws Exception {
        RSAKey forger = TestTokens.rsa("a-rsa");
        HttpResponse<String> response = collect("a-mixed", TestTokens.headers(TestTokens.sign(forger, claimsA().build()), KEY_A, ORG_A));
        assertProblem(response, "0502-401");
        String requestId = TestEdge.json(response.body()).path("report").path("requestId").asText();
        assertThat(storedFor(requestId)).isZero();
    }

    @Test
    void anotherOrganizationsDatastreamAnswersExactlyLikeAnUnknownOne() throws Exception {
        List<String> credentialsA = TestTokens.headers(tokenA(), KEY_A, ORG_A);
        for (String foreign : List.of("b-auth", "b-mixed", "b-off")) {
            HttpResponse<String> crossed = collect(foreign, credentialsA);
            HttpResponse<String> unknown = collect(foreign + "-nope", credentialsA);
            assertProblem(crossed, "0003-400");
            assertProblem(unknown, "0003-400");
            assertThat(withoutRequestId(crossed.body()))
                    .isEqualTo(withoutRequestId(unknown.body()).replace(foreign + "-nope", foreign));
            assertThat(crossed.headers().map().keySet()).isEqualTo(unknown.headers().map().keySet());
        }
        // B's own credentials reach b-auth; A's data is not in B's dataset.
        String tokenB = TestTokens.sign(rsaB, TestTokens.claims(null, KEY_B, "").build());
        HttpResponse<String> own = collect("b-auth", TestTokens.headers(tokenB, KEY_B, ORG_B));
        assertThat(own.statusCode()).as(own.body()).isEqualTo(202);
        HttpResponse<String> bOnA = collect("a-mixed", TestTokens.headers(tokenB, KEY_B, ORG_B));
        assertProblem(bOnA, "0003-400");
    }

    @Test
    void identityStateNeverCrossesOrganizations() throws Exception {
        String interact = """
                {"events":[{"xdm":{"eventType":"web.webpagedetails.pageViews"}}],
                 "query":{"identity":{"fetch":["ECID"]}}}
                """;
        HttpResponse<String> first = call("/ee/v1/interact?configId=a-mixed", interact, List.of());
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        JsonNode body = TestEdge.json(first.body());
        String ecidA = ecid(body);
        JsonNode identityItem = stateItem(body, "identity");
        assertThat(identityItem.path("key").asText()).isEqualTo("kndctr_" + ORG_A.replace('@', '_') + "_identity");
        String cookie = identityItem.path("key").asText() + "=" + identityItem.path("value").asText();

        HttpResponse<String> sameOrg = call("/ee/v1/interact?configId=a-mixed", interact, List.of("cookie", cookie));
        assertThat(ecid(TestEdge.json(sameOrg.body()))).isEqualTo(ecidA);

        HttpResponse<String> otherOrg = call("/ee/v1/interact?configId=b-mixed", interact, List.of("cookie", cookie));
        assertThat(otherOrg.statusCode()).as(otherOrg.body()).isEqualTo(200);
        JsonNode other = TestEdge.json(otherOrg.body());
        assertThat(ecid(other)).isNotEqualTo(ecidA);
        assertThat(stateItem(other, "identity").path("key").asText()).isEqualTo("kndctr_" + ORG_B.replace('@', '_') + "_identity");
    }

    @Test
    void consentRecordedForOneOrganizationNeverAppliesToAnother() throws Exception {
        HttpResponse<String> optOut = call("/ee/v1/privacy/set-consent?configId=a-mixed",
                "{\"consent\":[{\"standard\":\"Adobe\",\"version\":\"1.0\",\"value\":{\"general\":\"out\"}}],"
                        + "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}", List.of());
        assertThat(optOut.statusCode()).as(optOut.body()).isEqualTo(200);
        String ecid = ecid(TestEdge.json(optOut.body()));
        String withEcid = "{\"events\":[{\"xdm\":{\"eventType\":\"t\",\"identityMap\":{\"ECID\":[{\"id\":\"" + ecid
                + "\"}]}}}],\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}";

        HttpResponse<String> sameOrg = call("/ee/v1/interact?configId=a-mixed", withEcid, List.of());
        assertThat(sameOrg.statusCode()).as(sameOrg.body()).isEqualTo(200);
        assertThat(sameOrg.body()).contains("EXEG-0301-200");
        assertThat(storedFor(TestEdge.json(sameOrg.body()).path("requestId").asText())).isZero();

        HttpResponse<String> otherOrg = call("/ee/v1/interact?configId=b-mixed", withEcid, List.of());
        assertThat(otherOrg.statusCode()).as(otherOrg.body()).isEqualTo(200);
        assertThat(otherOrg.body()).doesNotContain("EXEG-0301-200");
        assertThat(storedFor(TestEdge.json(otherOrg.body()).path("requestId").asText())).isEqualTo(1);
    }

    private static String ecid(JsonNode body) {
        for (JsonNode handle : body.path("handle")) {
            if (handle.path("type").asText().equals("identity:result")) {
                return handle.path("payload").path(0).path("id").asText();
            }
        }
        throw new AssertionError("no identity:result in " + body);
    }

    private static JsonNode stateItem(JsonNode body, String suffix) {
        for (JsonNode handle : body.path("handle")) {
            if (handle.path("type").asText().equals("state:store")) {
                for (JsonNode item : handle.path("payload")) {
                    if (item.path("key").asText().endsWith("_" + suffix)) {
                        return item;
                    }
                }
            }
        }
        throw new AssertionError("no state item " + suffix + " in " + body);
    }

    private static String withoutRequestId(String body) throws Exception {
        JsonNode doc = TestEdge.json(body);
        ((ObjectNode) doc.path("report")).remove("requestId");
        return doc.toString();
    }
}
