package org.xdmedge.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A part of the machine a test needs (redis-server, Debian's chromium, the e2e npm packages).
 * When it is missing the test is skipped on a developer's machine, but fails when the environment
 * says this is CI ({@code CI=true} or {@code CI=1}, as {@code .ci/run} sets it): a CI run whose
 * tests skipped for want of a part must not pass.
 */
public final class RequiredPart {
    private RequiredPart() {}

    /** Returns when {@code present}; otherwise skips the test, or fails it under CI, with {@code missing} as the reason. */
    public static void assumeOrFail(boolean present, String missing) {
        assumeOrFail(present, missing, System.getenv("CI"));
    }

    /** As {@link #assumeOrFail(boolean, String)}, with the value of {@code CI} given. */
    static void assumeOrFail(boolean present, String missing, String ci) {
        if (present) {
            return;
        }
        if (ci != null && (ci.equalsIgnoreCase("true") || ci.equals("1"))) {
            Assertions.fail(missing + " (CI=" + ci + ": a test whose part is missing fails instead of skipping)");
        }
        Assumptions.abort(missing);
    }
}
