package org.xdmedge.auth;

import java.util.concurrent.CompletionStage;

/**
 * Turns credentials into a verified {@link Principal} or an {@link org.xdmedge.protocol.EdgeProblem}
 * (401). Usually completes at once on the calling thread; only a key set that must be fetched first
 * completes later, on another thread, so the caller must not block on it.
 */
public interface Authenticator {
    CompletionStage<Principal> authenticate(Credentials credentials, String requestId);
}
