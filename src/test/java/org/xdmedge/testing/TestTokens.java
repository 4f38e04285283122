package org.xdmedge.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;

/** Keys generated and tokens minted at test time, the way an operator's token issuer would. */
public final class TestTokens {
    private TestTokens() {}

    public static RSAKey rsa(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ECKey ec(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).keyUse(KeyUse.SIGNATURE).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public halves of {@code keys} as a JWKS document. */
    public static String jwks(JWK... keys) {
        return new JWKSet(Arrays.stream(keys).map(JWK::toPublicJWK).toList()).toString(true);
    }

    public static Path writeJwks(Path file, JWK... keys) throws IOException {
        Files.writeString(file, jwks(keys), StandardCharsets.UTF_8);
        return file;
    }

    /** Claims valid for an hour: issuer, client id and scopes (space-separated) set. */
    public static JWTClaimsSet.Builder claims(String issuer, String clientId, String scope) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(issuer).subject("integration@techacct.test").claim("client_id", clientId)
                .claim("scope", scope).issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofHours(1))));
    }

    /** Signs with RS256 or ES256 (by key type) naming the key's own kid. */
    public static String sign(JWK key, JWTClaimsSet claims) {
        return sign(key, key.getKeyID(), claims);
    }

    public static String sign(JWK key, String kid, JWTClaimsSet claims) {
        try {
            JWSSigner signer;
            JWSAlgorithm alg;
            if (key instanceof RSAKey rsa) {
                signer = new RSASSASigner(rsa);
                alg = JWSAlgorithm.RS256;
            } else {
                signer = new ECDSASigner((ECKey) key);
                alg = JWSAlgorithm.ES256;
            }
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The three headers of an authenticated server call. */
    public static List<String> headers(String token, String apiKey, String orgId) {
        return List.of("authorization", "Bearer " + token, "x-api-key", apiKey, "x-gw-ims-org-id", orgId);
    }
}
