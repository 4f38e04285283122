package org.xdmedge.cli;

import java.io.PrintWriter;
import org.xdmedge.StartupException;
import org.xdmedge.config.ConfigException;
import picocli.CommandLine.Option;

/**
 * How a command answers a failure: one {@code xdm-edge:} line naming what is wrong and what to do,
 * exit code 2 for a usage or configuration mistake and 1 for a failure at run time; the stack trace
 * only with {@code --verbose}.
 */
final class Failures {
    /** Exit code of a usage or configuration mistake (picocli's own for a bad option). */
    static final int USAGE = 2;
    /** Exit code of a failure at run time. */
    static final int FAILED = 1;

    /** The {@code --verbose} option, mixed into each command. */
    static final class Verbose {
        @Option(names = "--verbose", description = "On an error, also print its stack trace.")
        boolean verbose;
    }

    private Failures() {}

    static int report(Exception e, PrintWriter err, boolean verbose) {
        int code;
        String message;
        if (e instanceof ConfigException) {
            code = USAGE;
            message = e.getMessage();
        } else if (e instanceof StartupException startup) {
            code = startup.exitCode();
            message = startup.getMessage();
        } else {
            code = FAILED;
            message = (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                    + (verbose ? "" : " (--verbose shows where)");
        }
        err.println("xdm-edge: " + message);
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }
}
