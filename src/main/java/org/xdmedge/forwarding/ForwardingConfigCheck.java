package org.xdmedge.forwarding;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.xdmedge.config.ConfigCheck;
import org.xdmedge.config.DestinationConfig;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.ForwardTo;

/** Start-up checks of {@code destinations[]}, {@code forwarding} and each datastream's {@code forwardTo}. */
public final class ForwardingConfigCheck implements ConfigCheck {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}");
    /** Headers the forwarder sets itself. */
    private static final Set<String> OWN_HEADERS = Set.of("content-type", "content-length", "idempotency-key",
            "x-xdm-edge-signature", "host", "connection", "transfer-encoding");

    /** Calls {@code problem} with the path and message of every problem. */
    @Override
    public void check(EdgeConfig config, BiConsumer<String, String> problem) {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < config.destinations().size(); i++) {
            destination(config.destinations().get(i), "destinations[" + i + "]", ids, problem);
        }
        var forwarding = config.forwarding();
        if (forwarding.maxLagBytes() < 0) {
            problem.accept("forwarding.maxLagBytes", "must be at least 0 (0: retention waits for every destination)");
        }
        if (forwarding.pollMs() < 10 || forwarding.pollMs() > 10_000) {
            problem.accept("forwarding.pollMs", "must be between 10 and 10000");
        }
        for (int i = 0; i < config.datastreams().size(); i++) {
            var ds = config.datastreams().get(i);
            Set<String> named = new HashSet<>();
            for (int j = 0; j < ds.forwardTo().size(); j++) {
                ForwardTo to = ds.forwardTo().get(j);
                String at = "datastreams[" + i + "].forwardTo[" + j + "]";
                if (to.destination() == null) {
                    problem.accept(at + ".destination", "is required");
                } else if (!ids.contains(to.destination())) {
                    problem.accept(at + ".destination", "names no destination (destinations: "
                            + (ids.isEmpty() ? "none" : String.join(", ", new TreeSet<>(ids))) + ")");
                } else if (!named.add(to.destination())) {
                    problem.accept(at + ".destination", "names '" + to.destination() + "' a second time; list its event types once");
                }
                for (int k = 0; k < to.eventTypes().size(); k++) {
                    String type = to.eventTypes().get(k);
                    if (type == null || type.isBlank()) {
                        problem.accept(at + ".eventTypes[" + k + "]", "must be an event type such as commerce.purchases");
                    }
                }
            }
        }
    }

    private static void destination(DestinationConfig d, String at, Set<String> ids, BiConsumer<String, String> problem) {
        if (d.id() == null) {
            problem.accept(at + ".id", "is required");
        } else if (!ID.matcher(d.id()).matches()) {
            problem.accept(at + ".id", "must be 1 to 64 letters, digits, '.', '_' or '-' (it names files under <data>/forwarding)");
        } else if (!ids.add(d.id())) {
            problem.accept(at + ".id", "duplicate destination '" + d.id() + "'");
        }
        if (!DestinationConfig.HTTP.equals(d.type())) {
            problem.accept(at + ".type", "must be http");
        }
        if (d.url() == null) {
            problem.accept(at + ".url", "is required");
        } else {
            String why = urlProblem(d.url());
            if (why != null) {
                problem.accept(at + ".url", why);
            }
        }
        for (Map.Entry<String, String> h : d.headers().entrySet()) {
            if (!HEADER_NAME.matcher(h.getKey()).matches()) {
                problem.accept(at + ".headers", "'" + h.getKey() + "' is not a header name");
            } else if (OWN_HEADERS.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                problem.accept(at + ".headers." + h.getKey(), "is set by the forwarder itself");
            } else if (h.getValue() == null) {
                problem.accept(at + ".headers." + h.getKey(), "must be text");
            } else if (EnvReferences.syntaxProblem(h.getValue()) != null) {
                problem.accept(at + ".headers." + h.getKey(), EnvReferences.syntaxProblem(h.getValue()));
            }
        }
        if (d.signingSecret() != null) {
            if (d.signingSecret().isEmpty()) {
                problem.accept(at + ".signingSecret", "must not be empty (leave it out to send unsigned)");
            } else if (EnvReferences.syntaxProblem(d.signingSecret()) != null) {
                problem.accept(at + ".signingSecret", EnvReferences.syntaxProblem(d.signingSecret()));
            }
        }
        range(d.batch().maxEvents(), 1, 10_000, at + ".batch.maxEvents", problem);
        range(d.batch().maxDelayMs(), 0, 60_000, at + ".batch.maxDelayMs", problem);
        range(d.retry().maxAttempts(), 1, 1000, at + ".retry.maxAttempts", problem);
        range(d.retry().maxAgeHours(), 1, 24 * 365, at + ".retry.maxAgeHours", problem);
        range(d.retry().initialBackoffMs(), 1, 3_600_000, at + ".retry.initialBackoffMs", problem);
        range(d.retry().maxBackoffMs(), d.retry().initialBackoffMs(), 3_600_000, at + ".retry.maxBackoffMs", problem);
        range(d.timeoutMs(), 10, 600_000, at + ".timeoutMs", problem);
    }

    private static void range(int value, int min, int max, String path, BiConsumer<String, String> problem) {
        if (value < min || value > max) {
            problem.accept(path, "must be between " + min + " and " + max);
        }
    }

    private static String urlProblem(String url) {
        try {
            URI uri = new URI(url);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
                return "must be an http:// or https:// URL";
            }
            if (uri.getHost() == null) {
                return "must name a host";
            }
            return null;
        } catch (URISyntaxException e) {
            return "is not a URL: " + e.getReason();
        }
    }
}
