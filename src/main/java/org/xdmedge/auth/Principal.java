package org.xdmedge.auth;

import java.util.Set;

/** A verified caller: the organization it acts for, its client id and the scopes its token grants. */
public record Principal(String orgId, String clientId, Set<String> scopes) {
    public Principal {
        scopes = Set.copyOf(scopes);
    }
}
