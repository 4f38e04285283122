package org.xdmedge.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.xdmedge.config.EdgeConfig.OrganizationConfig;

/**
 * Start-up checks of the security keys: {@code organizations[].apiKeys}, {@code .auth},
 * {@code .rateLimit} and {@code datastreams[].rateLimit}. Messages name the key, never a secret.
 */
final class SecurityConfigChecks {
    private static final Pattern API_KEY = Pattern.compile("[\\x21-\\x7e]{1,256}");
    private static final Pattern SCOPE = Pattern.compile("[\\x21-\\x7e&&[^,]]{1,256}");
    private static final double MAX_RATE = 1_000_000;

    private SecurityConfigChecks() {}

    /** Makes relative {@code jwksFile} names absolute against the configuration's folder. */
    static EdgeConfig resolveFiles(EdgeConfig config, Path baseDir) {
        List<OrganizationConfig> orgs = new ArrayList<>();
        boolean changed = false;
        for (OrganizationConfig org : config.organizations()) {
            AuthConfig auth = org.auth();
            if (auth != null && auth.jwksFile() != null && !auth.jwksFile().isBlank()
                    && !Path.of(auth.jwksFile()).isAbsolute()) {
                auth = auth.withJwksFile(baseDir.resolve(auth.jwksFile()).normalize().toString());
                org = org.withAuth(auth);
                changed = true;
            }
            orgs.add(org);
        }
        return changed ? config.withOrganizations(orgs) : config;
    }

    static void validate(EdgeConfig config, BiConsumer<String, String> problem) {
        Map<String, String> apiKeyOwners = new HashMap<>();
        for (int i = 0; i < config.organizations().size(); i++) {
            OrganizationConfig org = config.organizations().get(i);
            String at = "organizations[" + i + "]";
            for (int k = 0; k < org.apiKeys().size(); k++) {
                String key = org.apiKeys().get(k);
                String keyAt = at + ".apiKeys[" + k + "]";
                if (key == null || !API_KEY.matcher(key).matches()) {
                    problem.accept(keyAt, "an API key is 1 to 256 visible ASCII characters without spaces");
                } else {
                    String owner = apiKeyOwners.putIfAbsent(key, keyAt);
                    if (owner != null) {
                        problem.accept(keyAt, "the same API key is already registered at '" + owner
                                + "'; an API key belongs to one organization");
                    }
                }
            }
            if (org.auth() == null) {
                if (!org.apiKeys().isEmpty()) {
                    problem.accept(at + ".apiKeys", "API keys need '" + at + ".auth' to say how their tokens are verified");
                }
            } else {
                validateAuth(org.auth(), at, problem);
                if (org.apiKeys().isEmpty()) {
                    problem.accept(at + ".auth", "no API key is registered in '" + at + ".apiKeys', so every token would be refused");
                }
            }
            validateRate(org.rateLimit(), at + ".rateLimit", problem);
        }
        for (int i = 0; i < config.datastreams().size(); i++) {
            validateRate(config.datastreams().get(i).rateLimit(), "datastreams[" + i + "].rateLimit", problem);
        }
    }

    private static void validateAuth(AuthConfig auth, String org, BiConsumer<String, String> problem) {
        String at = org + ".auth";
        if (auth.jwksFile() == null && auth.jwksUrl() == null) {
            problem.accept(at, "needs 'jwksFile', 'jwksUrl' or both");
        }
        if (auth.jwksFile() != null) {
            Path file = Path.of(auth.jwksFile());
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                problem.accept(at + ".jwksFile", "cannot read key file " + file);
            }
        }
        if (auth.jwksUrl() != null) {
            try {
                URI uri = new URI(auth.jwksUrl());
                if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
                    problem.accept(at + ".jwksUrl", "must be an http(s) URL with a host");
                }
            } catch (URISyntaxException e) {
                problem.accept(at + ".jwksUrl", "is not a valid URL");
            }
        }
        if (auth.issuer() != null && auth.issuer().isBlank()) {
            problem.accept(at + ".issuer", "must not be blank (leave it out to accept any issuer)");
        }
        for (int s = 0; s < auth.requiredScopes().size(); s++) {
            String scope = auth.requiredScopes().get(s);
            if (scope == null || !SCOPE.matcher(scope).matches()) {
                problem.accept(at + ".requiredScopes[" + s + "]", "a scope is visible ASCII without spaces or commas");
            }
        }
        range(auth.clockSkewSeconds(), 0, 600, at + ".clockSkewSeconds", problem);
        range(auth.jwksCacheSeconds(), 1, 86_400, at + ".jwksCacheSeconds", problem);
        range(auth.jwksRefreshMinSeconds(), 0, 3_600, at + ".jwksRefreshMinSeconds", problem);
        range(auth.jwksFetchTimeoutSeconds(), 1, 60, at + ".jwksFetchTimeoutSeconds", problem);
    }

    private static void validateRate(RateLimitConfig rate, String at, BiConsumer<String, String> problem) {
        if (rate == null) {
            return;
        }
        Double rps = rate.requestsPerSecond();
        if (rps == null) {
            problem.accept(at + ".requestsPerSecond", "is required");
        } else if (!(rps > 0) || rps > MAX_RATE || rps.isInfinite()) {
            problem.accept(at + ".requestsPerSecond", "must be above 0 and at most " + (long) MAX_RATE);
        }
        if (rate.burst() != null) {
            range(rate.burst(), 1, 1_000_000_000, at + ".burst", problem);
        }
    }

    private static void range(int value, int min, int max, String at, BiConsumer<String, String> problem) {
        if (value < min || value > max) {
            problem.accept(at, "must be between " + min + " and " + max);
        }
    }
}
