package org.xdmedge.auth;

import java.util.List;
import java.util.Map;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;

/** 401 answers: the Edge code plus the {@code WWW-Authenticate} challenge of RFC 6750. */
final class AuthProblems {
    private static final Map<String, String> CHALLENGE = Map.of("www-authenticate", "Bearer realm=\"xdm-edge\"");

    private AuthProblems() {}

    static EdgeProblem of(EdgeError error, String detail) {
        return new EdgeProblem(error, detail, Map.of(), List.of(), null, CHALLENGE);
    }
}
