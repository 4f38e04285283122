package org.xdmedge.config;

import java.util.List;

/**
 * {@code organizations[].auth:} how the tokens of one organization's server-to-server callers are
 * verified. Keys come from a JWKS file, a JWKS URL, or both (a token's {@code kid} is looked up in
 * the file first). Relative {@code jwksFile} paths are resolved against the configuration file's
 * folder.
 *
 * @param jwksFile public keys (RSA or EC P-256) as a JSON Web Key Set file
 * @param jwksUrl a JWKS document fetched at start, cached, and fetched again on an unknown kid
 * @param issuer when set, the {@code iss} claim must equal it
 * @param requiredScopes every one must be in the token's {@code scope} claim
 * @param clockSkewSeconds tolerance applied to {@code exp} and {@code nbf}
 * @param jwksCacheSeconds age after which the URL's key set is fetched again in the background
 * @param jwksRefreshMinSeconds least time between two fetches caused by unknown kids
 * @param jwksFetchTimeoutSeconds how long one fetch of the URL may take
 */
public record AuthConfig(String jwksFile, String jwksUrl, String issuer, List<String> requiredScopes,
                         Integer clockSkewSeconds, Integer jwksCacheSeconds, Integer jwksRefreshMinSeconds,
                         Integer jwksFetchTimeoutSeconds) {
    public AuthConfig {
        requiredScopes = requiredScopes == null ? List.of() : List.copyOf(requiredScopes);
        clockSkewSeconds = clockSkewSeconds == null ? 60 : clockSkewSeconds;
        jwksCacheSeconds = jwksCacheSeconds == null ? 300 : jwksCacheSeconds;
        jwksRefreshMinSeconds = jwksRefreshMinSeconds == null ? 30 : jwksRefreshMinSeconds;
        jwksFetchTimeoutSeconds = jwksFetchTimeoutSeconds == null ? 5 : jwksFetchTimeoutSeconds;
    }

    /** The same settings with {@code jwksFile} replaced (used to make relative paths absolute). */
    public AuthConfig withJwksFile(String file) {
        return new AuthConfig(file, jwksUrl, issuer, requiredScopes, clockSkewSeconds, jwksCacheSeconds,
                jwksRefreshMinSeconds, jwksFetchTimeoutSeconds);
    }
}
