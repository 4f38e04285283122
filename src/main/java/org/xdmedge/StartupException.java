package org.xdmedge;

/**
 * The edge cannot start, or a command cannot run, for a reason the operator can fix; the message
 * names the thing (directory, port, file, dataset) and what to do, and is shown without a stack trace.
 */
public final class StartupException extends Exception {
    /** Exit code of a value the operator gave that cannot work (as for a configuration error). */
    public static final int USAGE = 2;
    /** Exit code of a condition of the moment, such as a port or directory in use. */
    public static final int RUNTIME = 1;

    private final int exitCode;

    public StartupException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
