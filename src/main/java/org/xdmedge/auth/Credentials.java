package org.xdmedge.auth;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;

/**
 * What a server-to-server caller presents: the bearer token, its API key (client id) and the
 * organization it acts for. Never logged, never put in an answer.
 */
public record Credentials(String token, String apiKey, String orgId) {
    public static final String AUTHORIZATION = "authorization";
    public static final String API_KEY = "x-api-key";
    public static final String ORG_ID = "x-gw-ims-org-id";
    private static final int MAX_TOKEN_CHARS = 16 * 1024;

    /**
     * Reads the three headers. None of them present: an anonymous call (empty). Any of them present:
     * the caller means to authenticate, so all three must be there and well formed, or the call is
     * refused with 0500 rather than served anonymously.
     */
    public static Optional<Credentials> from(Function<String, String> header) {
        String authorization = header.apply(AUTHORIZATION);
        String apiKey = header.apply(API_KEY);
        String orgId = header.apply(ORG_ID);
        if (authorization == null && apiKey == null && orgId == null) {
            return Optional.empty();
        }
        if (authorization == null || authorization.isBlank()) {
            throw unauthorized("The Authorization header is missing: send 'Authorization: Bearer <access token>'.");
        }
        if (apiKey == null || apiKey.isBlank()) {
            throw unauthorized("The x-api-key header is missing: send the client id the token was issued to.");
        }
        if (orgId == null || orgId.isBlank()) {
            throw unauthorized("The x-gw-ims-org-id header is missing: send the organization the call is made for.");
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            throw unauthorized("The Authorization header must be 'Bearer <access token>'.");
        }
        String token = value.substring(space + 1).strip();
        if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS || token.indexOf(' ') >= 0) {
            throw unauthorized("The bearer token is empty, too long or malformed.");
        }
        return Optional.of(new Credentials(token, apiKey.strip(), orgId.strip()));
    }

    static EdgeProblem unauthorized(String detail) {
        return AuthProblems.of(EdgeError.UNAUTHORIZED, detail);
    }

    /** Keeps the token and key out of any accidental {@code toString()} in logs or stack traces. */
    @Override
    public String toString() {
        return "Credentials[orgId=" + orgId + ", token=***, apiKey=***]";
    }
}
