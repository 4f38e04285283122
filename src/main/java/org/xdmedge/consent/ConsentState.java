package org.xdmedge.consent;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.xdmedge.identity.ClientState;
import org.xdmedge.identity.StateKeys;

/**
 * The consent state items: {@code kndctr_<org>_consent} = {@code general=in|out} (the only thing the
 * Web SDK reads to decide consent) and {@code kndctr_<org>_consent_check} = {@code 1}.
 */
public final class ConsentState {
    private ConsentState() {}

    /** The consent the client holds in its state ({@code general=in;...}), or null if none or unreadable. */
    public static Consent fromClient(ClientState state, String orgId) {
        String value = state.get(orgId, StateKeys.CONSENT).orElse(null);
        if (value == null) {
            return null;
        }
        for (String pair : value.split(";")) {
            String[] kv = pair.split("=", 2);
            if (kv.length == 2 && kv[0].trim().equals("general")) {
                return switch (kv[1].trim()) {
                    case "in" -> Consent.IN;
                    case "out" -> Consent.OUT;
                    default -> null;
                };
            }
        }
        return null;
    }

    public static void addItems(ArrayNode stateStore, String orgId, Consent consent) {
        ObjectNode item = stateStore.addObject();
        item.put("key", StateKeys.name(orgId, StateKeys.CONSENT));
        item.put("value", "general=" + consent.general());
        item.put("maxAge", StateKeys.CONSENT_MAX_AGE);
        ObjectNode check = stateStore.addObject();
        check.put("key", StateKeys.name(orgId, StateKeys.CONSENT_CHECK));
        check.put("value", "1");
        check.put("maxAge", StateKeys.CONSENT_CHECK_MAX_AGE);
    }
}
