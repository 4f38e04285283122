package org.xdmedge.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a JSON Web Key Set into verification keys. Only RS256 (RSA, at least 2048 bits) and ES256
 * (EC P-256) are ever accepted, so symmetric keys, other curves and encryption keys are refused.
 */
public final class JwksKeys {
    static final int MIN_RSA_BITS = 2048;

    private JwksKeys() {}

    /**
     * The operator's own file: every key must be usable, and none may hold private material (a file
     * of public keys is safe to share; one with private keys is a mistake worth stopping for).
     *
     * @throws IllegalArgumentException naming what is wrong, never showing key material
     */
    public static List<VerificationKey> parseStrict(String json) {
        JWKSet set = parseSet(json);
        if (set.getKeys().isEmpty()) {
            throw new IllegalArgumentException("the key set has no keys");
        }
        List<VerificationKey> keys = new ArrayList<>();
        for (int i = 0; i < set.getKeys().size(); i++) {
            JWK jwk = set.getKeys().get(i);
            String name = "key #" + i + (jwk.getKeyID() == null ? "" : " (kid '" + jwk.getKeyID() + "')");
            if (jwk.isPrivate()) {
                throw new IllegalArgumentException(name + " holds private key material; publish public keys only");
            }
            String problem = unusable(jwk);
            if (problem != null) {
                throw new IllegalArgumentException(name + ": " + problem);
            }
            keys.add(toKey(jwk));
        }
        return List.copyOf(keys);
    }

    /** A key set fetched from a URL: keys this edge cannot use are skipped, private parts dropped. */
    static List<VerificationKey> parseLenient(String json) {
        JWKSet set = parseSet(json);
        List<VerificationKey> keys = new ArrayList<>();
        for (JWK jwk : set.getKeys()) {
            JWK pub = jwk.toPublicJWK();
            if (pub != null && unusable(pub) == null) {
                keys.add(toKey(pub));
            }
        }
        return List.copyOf(keys);
    }

    private static JWKSet parseSet(String json) {
        try {
            return JWKSet.parse(json);
        } catch (ParseException e) {
            throw new IllegalArgumentException("not a JSON Web Key Set (expected {\"keys\": [...]})");
        }
    }

    /** Why this key cannot verify RS256/ES256 signatures, or null if it can. */
    private static String unusable(JWK jwk) {
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
            return "\"use\" must be \"sig\"";
        }
        if (jwk instanceof RSAKey rsa) {
            if (jwk.getAlgorithm() != null && !JWSAlgorithm.RS256.equals(jwk.getAlgorithm())) {
                return "an RSA key must be for RS256, not " + jwk.getAlgorithm();
            }
            if (rsa.size() < MIN_RSA_BITS) {
                return "an RSA key must have at least " + MIN_RSA_BITS + " bits, this one has " + rsa.size();
            }
            return null;
        }
        if (jwk instanceof ECKey ec) {
            if (jwk.getAlgorithm() != null && !JWSAlgorithm.ES256.equals(jwk.getAlgorithm())) {
                return "an EC key must be for ES256, not " + jwk.getAlgorithm();
            }
            if (!Curve.P_256.equals(ec.getCurve())) {
                return "an EC key must be on curve P-256 (ES256), not " + ec.getCurve();
            }
            return null;
        }
        return "key type " + jwk.getKeyType() + " is not accepted (RSA for RS256 or EC P-256 for ES256 only)";
    }

    private static VerificationKey toKey(JWK jwk) {
        try {
            if (jwk instanceof RSAKey rsa) {
                return new VerificationKey(jwk.getKeyID(), JWSAlgorithm.RS256, new RSASSAVerifier(rsa.toRSAPublicKey()));
            }
            return new VerificationKey(jwk.getKeyID(), JWSAlgorithm.ES256, new ECDSAVerifier(((ECKey) jwk).toECPublicKey()));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("the key cannot be read: " + e.getMessage());
        }
    }
}
