package org.xdmedge.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.config.AuthConfig;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.EdgeConfig.OrganizationConfig;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;

/**
 * Verifies bearer tokens against the keys each organization's operator configured (spec §5 codes):
 * <ol>
 * <li>the organization named by {@code x-gw-ims-org-id} accepts tokens and has the {@code x-api-key}
 *     registered (else 0500);</li>
 * <li>the token is a compact JWS (else 0500) signed with RS256 or ES256 ({@code none} and HMAC are
 *     always refused, 0502) by a key of that organization (unknown kid or bad signature, 0502);</li>
 * <li>{@code iss} equals the configured issuer (0502: a token from another issuer is as untrusted as
 *     a forged one);</li>
 * <li>{@code exp} / {@code nbf} hold within the clock skew (0503); a token without expiry is
 *     malformed (0500). IMS-style {@code created_at} + {@code expires_in} (milliseconds) count as
 *     expiry when {@code exp} is absent;</li>
 * <li>{@code client_id} equals {@code x-api-key} (0500: the credentials do not belong together);</li>
 * <li>every required scope is in {@code scope} (0505).</li>
 * </ol>
 * Checking is plain CPU work with verifiers built at load time, so it runs on the caller's thread;
 * only an organization's JWKS URL is fetched elsewhere (see {@link RemoteJwks}).
 */
public final class JwtAuthenticator implements Authenticator, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JwtAuthenticator.class);
    private static final Set<JWSAlgorithm> ACCEPTED = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);

    private final Map<String, Organization> organizations;
    private final Clock clock;
    private final ExecutorService fetcher;

    /** One organization's settings, with its keys read. */
    private record Organization(String id, Set<String> apiKeys, AuthConfig auth, List<VerificationKey> fileKeys,
                                RemoteJwks remote) {}

    private JwtAuthenticator(Map<String, Organization> organizations, Clock clock, ExecutorService fetcher) {
        this.organizations = organizations;
        this.clock = clock;
        this.fetcher = fetcher;
    }

    /**
     * Reads every organization's key file and fetches its key URL once (blocking: call at start-up,
     * not on an event loop). The configuration was validated by ConfigLoader, so a file that cannot be
     * read now is an error.
     */
    public static JwtAuthenticator start(EdgeConfig config, Clock clock) throws IOException {
        ExecutorService fetcher = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jwks-fetch");
            t.setDaemon(true);
            return t;
        });
        // The client keeps its own executor: the fetcher thread only parses what it delivers.
        HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(5)).build();
        Map<String, Organization> orgs = new HashMap<>();
        List<RemoteJwks> remotes = new ArrayList<>();
        for (OrganizationConfig org : config.organizations()) {
            AuthConfig auth = org.auth();
            if (auth == null) {
                continue;
            }
            List<VerificationKey> fileKeys = List.of();
            if (auth.jwksFile() != null) {
                try {
                    fileKeys = JwksKeys.parseStrict(Files.readString(Path.of(auth.jwksFile()), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    throw new IOException("organization " + org.id() + ": JWKS file " + auth.jwksFile() + ": " + e.getMessage());
                }
            }
            RemoteJwks remote = null;
            if (auth.jwksUrl() != null) {
                remote = new RemoteJwks(org.id(), URI.create(auth.jwksUrl()), client, fetcher,
                        Duration.ofSeconds(auth.jwksFetchTimeoutSeconds()), Duration.ofSeconds(auth.jwksCacheSeconds()),
                        Duration.ofSeconds(auth.jwksRefreshMinSeconds()), System::nanoTime);
                remotes.add(remote);
            }
            orgs.put(org.id(), new Organization(org.id(), Set.copyOf(org.apiKeys()), auth, fileKeys, remote));
        }
        remotes.forEach(RemoteJwks::loadAtStart);
        return new JwtAuthenticator(Map.copyOf(orgs), clock, fetcher);
    }

    /** Refuses every credential: for an edge with no organization that accepts tokens. */
    public static Authenticator refuseAll() {
        return (credentials, requestId) -> CompletableFuture.failedFuture(Credentials.unauthorized(
                "This edge accepts no authenticated calls for organization '" + credentials.orgId() + "'."));
    }

    @Override
    public CompletionStage<Principal> authenticate(Credentials credentials, String requestId) {
        try {
            Organization org = organizations.get(credentials.orgId());
            if (org == null) {
                throw refuse(requestId, credentials.orgId(), EdgeError.UNAUTHORIZED, "organization-unknown",
                        "The organization in x-gw-ims-org-id does not accept authenticated calls on this edge.");
            }
            if (!org.apiKeys().contains(credentials.apiKey())) {
                throw refuse(requestId, org.id(), EdgeError.UNAUTHORIZED, "api-key-not-registered",
                        "The API key in x-api-key is not registered to the organization in x-gw-ims-org-id.");
            }
            SignedJWT jwt = parse(credentials.token(), requestId, org.id());
            JWSHeader header = jwt.getHeader();
            List<VerificationKey> candidates = candidates(org, header, requestId);
            if (candidates.isEmpty() && org.remote() != null) {
                // A key the edge has not seen: the organization may have rotated keys. Fetch, then decide.
                return org.remote().refreshForUnknownKid(requestId)
                        .thenApply(fresh -> verify(org, credentials, jwt, matching(fresh, header), requestId));
            }
            return CompletableFuture.completedFuture(verify(org, credentials, jwt, candidates, requestId));
        } catch (EdgeProblem problem) {
            return CompletableFuture.failedFuture(problem);
        }
    }

    private SignedJWT parse(String token, String requestId, String orgId) {
        JWT jwt;
        try {
            jwt = JWTParser.parse(token);
        } catch (ParseException | RuntimeException e) {
            // The library throws more than ParseException for some malformed tokens (a JOSE
            // header that is the JSON null: NullPointerException); each is a malformed token.
            throw refuse(requestId, orgId, EdgeError.UNAUTHORIZED, "token-malformed",
                    "The bearer token is not a well-formed JSON Web Token.");
        }
        if (jwt instanceof PlainJWT) {
            throw refuse(requestId, orgId, EdgeError.INVALID_TOKEN_SIGNATURE, "alg-none",
                    "Unsigned tokens (alg 'none') are never accepted.");
        }
        if (!(jwt instanceof SignedJWT signed)) {
            throw refuse(requestId, orgId, EdgeError.UNAUTHORIZED, "token-not-jws",
                    "The bearer token must be a signed JWT (JWS compact form).");
        }
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        if (alg == null || !ACCEPTED.contains(alg)) {
            throw refuse(requestId, orgId, EdgeError.INVALID_TOKEN_SIGNATURE, "alg-refused",
                    "Tokens signed with " + shorten(alg == null ? null : alg.getName()) + " are not accepted; use RS256 or ES256.");
        }
        return signed;
    }

    private static List<VerificationKey> candidates(Organization org, JWSHeader header, String requestId) {
        List<VerificationKey> found = new ArrayList<>(matching(org.fileKeys(), header));
        if (org.remote() != null) {
            found.addAll(matching(org.remote().keys(requestId), header));
        }
        return found;
    }

    /** Keys of the token's algorithm with its kid (any kid when the token names none). */
    private static List<VerificationKey> matching(List<VerificationKey> keys, JWSHeader header) {
        String kid = header.getKeyID();
        List<VerificationKey> out = new ArrayList<>(2);
        for (VerificationKey key : keys) {
            if (key.algorithm().equals(header.getAlgorithm()) && (kid == null || kid.equals(key.kid()))) {
                out.add(key);
            }
        }
        return out;
    }

    private Principal verify(Organization org, Credentials credentials, SignedJWT jwt, List<VerificationKey> keys,
                             String requestId) {
        if (keys.isEmpty()) {
            throw refuse(requestId, org.id(), EdgeError.INVALID_TOKEN_SIGNATURE, "kid-unknown",
                    "No key of this organization matches the token's key id and algorithm.");
        }
        if (!signatureHolds(jwt, keys)) {
            throw refuse(requestId, org.id(), EdgeError.INVALID_TOKEN_SIGNATURE, "signature-invalid",
                    "The token's signature does not verify with the organization's keys.");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException | RuntimeException e) {
            throw refuse(requestId, org.id(), EdgeError.UNAUTHORIZED, "claims-malformed",
                    "The token's claims are not a JSON object.");
        }
        AuthConfig auth = org.auth();
        if (auth.issuer() != null && !auth.issuer().equals(claims.getIssuer())) {
            throw refuse(requestId, org.id(), EdgeError.INVALID_TOKEN_SIGNATURE, "issuer-mismatch",
                    "The token was not issued by the issuer this organization trusts.");
        }
        long now = clock.millis();
        long skew = auth.clockSkewSeconds() * 1000L;
        Long expiresAt = expiry(claims);
        if (expiresAt == null) {
            throw refuse(requestId, org.id(), EdgeError.UNAUTHORIZED, "no-expiry",
                    "The token carries no expiry (exp).");
        }
        if (now - skew >= expiresAt) {
            throw refuse(requestId, org.id(), EdgeError.TOKEN_EXPIRED, "expired", "The token has expired.");
        }
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && now + skew < notBefore.getTime()) {
            throw refuse(requestId, org.id(), EdgeError.TOKEN_EXPIRED, "not-yet-valid", "The token is not valid yet (nbf).");
        }
        Object clientId = claims.getClaim("client_id");
        if (!(clientId instanceof String id) || !id.equals(credentials.apiKey())) {
            throw refuse(requestId, org.id(), EdgeError.UNAUTHORIZED, "client-id-mismatch",
                    "The token's client_id does not match the x-api-key header.");
        }
        Set<String> scopes = scopes(claims.getClaim("scope"));
        for (String required : auth.requiredScopes()) {
            if (!scopes.contains(required)) {
                throw refuse(requestId, org.id(), EdgeError.MISSING_SCOPE, "scope-missing",
                        "The token lacks the scope '" + shorten(required) + "' this organization requires.");
            }
        }
        return new Principal(org.id(), id, scopes);
    }

    private static boolean signatureHolds(SignedJWT jwt, List<VerificationKey> keys) {
        for (VerificationKey key : keys) {
            try {
                if (jwt.verify(key.verifier())) {
                    return true;
                }
            } catch (JOSEException | RuntimeException e) {
                // Treated as "does not verify with this key"; the next key may.
            }
        }
        return false;
    }

    /** {@code exp}, else IMS's {@code created_at} + {@code expires_in} (both milliseconds, often strings). */
    private static Long expiry(JWTClaimsSet claims) {
        if (claims.getExpirationTime() != null) {
            return claims.getExpirationTime().getTime();
        }
        Long created = millis(claims.getClaim("created_at"));
        Long lifetime = millis(claims.getClaim("expires_in"));
        return created == null || lifetime == null ? null : created + lifetime;
    }

    private static Long millis(Object value) {
        if (value instanceof Number n) {
            return n.longValue();
        }
        if (value instanceof String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /** IMS writes {@code scope} comma-separated, OAuth space-separated; a JSON array is accepted too. */
    private static Set<String> scopes(Object claim) {
        Set<String> out = new LinkedHashSet<>();
        if (claim instanceof String s) {
            for (String part : s.split("[,\\s]+")) {
                if (!part.isEmpty()) {
                    out.add(part);
                }
            }
        } else if (claim instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof String s) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    /** Logs why (never the token or key) and builds the answer. */
    private static EdgeProblem refuse(String requestId, String orgId, EdgeError error, String reason, String detail) {
        if (log.isDebugEnabled()) {
            log.debug("requestId={} org={} authentication refused: {} ({})", requestId, shorten(orgId), reason, error.id());
        }
        return AuthProblems.of(error, detail);
    }

    private static String shorten(String value) {
        if (value == null) {
            return "-";
        }
        String cleaned = value.replaceAll("[^A-Za-z0-9@._:-]", "?");
        return cleaned.length() > 80 ? cleaned.substring(0, 80) + "…" : cleaned;
    }

    @Override
    public void close() {
        fetcher.shutdownNow();
    }
}
