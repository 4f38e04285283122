package org.xdmedge.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * A command that does one thing and answers its failure as {@link Failures} says: one
 * {@code xdm-edge:} line, its exit code, the stack trace only with {@code --verbose}.
 */
abstract class Task implements Callable<Integer> {
    @CommandLine.Mixin
    Failures.Verbose verbose = new Failures.Verbose();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        try {
            return execute();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            return Failures.report(e, spec.commandLine().getErr(), verbose.verbose);
        }
    }

    /** The command's work; returns its exit code. */
    protected abstract int execute() throws Exception;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }
}
