package org.xdmedge.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;

/**
 * One public key, ready to check signatures of one algorithm. The verifier is built once when the
 * key set is loaded, so checking a token is only the signature arithmetic.
 *
 * @param kid the key id ({@code null} when the JWK has none)
 */
record VerificationKey(String kid, JWSAlgorithm algorithm, JWSVerifier verifier) {}
