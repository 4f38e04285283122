package org.xdmedge.identity;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.xdmedge.protocol.EdgeRequest.StateEntry;

/**
 * The {@code kndctr_*} state a client holds, read from both places it can arrive: the Cookie header
 * (first-party edge domains) and {@code meta.state.entries} (third-party and mobile clients). An
 * entry in the body wins over a cookie of the same name, since the client chose to send it.
 */
public final class ClientState {
    private static final int MAX_ITEMS = 64;
    private final Map<String, String> values = new HashMap<>();

    public ClientState(List<String> cookieHeaders, List<StateEntry> entries) {
        for (String header : cookieHeaders) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq <= 0 || values.size() >= MAX_ITEMS) {
                    continue;
                }
                String name = pair.substring(0, eq).trim();
                if (name.startsWith("kndctr_")) {
                    values.put(name, unquote(pair.substring(eq + 1).trim()));
                }
            }
        }
        for (StateEntry entry : entries) {
            if (entry.key().startsWith("kndctr_") && values.size() < MAX_ITEMS) {
                values.put(entry.key(), entry.value());
            }
        }
    }

    public Optional<String> get(String orgId, String key) {
        return Optional.ofNullable(values.get(StateKeys.name(orgId, key)));
    }

    /** The value of a cookie by exact name from the Cookie headers (for cookies that are not {@code kndctr_*}). */
    public static Optional<String> cookie(List<String> cookieHeaders, String name) {
        for (String header : cookieHeaders) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                    return Optional.of(unquote(pair.substring(eq + 1).trim()));
                }
            }
        }
        return Optional.empty();
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
    }
}
