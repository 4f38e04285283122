package org.xdmedge.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * {@code xdm-edge}: the command line of the runnable jar. Every mistake is answered with one
 * {@code xdm-edge:} line ({@link Failures}); a bad option or argument exits with 2.
 */
@Command(name = "xdm-edge", mixinStandardHelpOptions = true, version = "xdm-edge 0.1.0",
        description = "A self-hostable Adobe Experience Platform Edge Network server.",
        subcommands = {ServeCommand.class, ExportCommand.class, ReportCommand.class, QuarantineCommand.class,
                DestinationsCommand.class, PrivacyCommand.class})
public final class XdmEdgeCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The command line with its error handling; tests run it in-process with their own writers. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new XdmEdgeCommand());
        cli.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("xdm-edge: " + e.getMessage() + "; see '"
                    + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
            err.flush();
            return Failures.USAGE;
        });
        cli.setExecutionExceptionHandler((e, command, parsed) -> Failures.report(e, command.getErr(), false));
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
