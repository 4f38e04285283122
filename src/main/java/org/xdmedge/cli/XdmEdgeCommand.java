package org.xdmedge.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code xdm-edge}: the command line of the runnable jar. */
@Command(name = "xdm-edge", mixinStandardHelpOptions = true, version = "xdm-edge 0.1.0",
        description = "A self-hostable Adobe Experience Platform Edge Network server.",
        subcommands = {ServeCommand.class, ExportCommand.class})
public final class XdmEdgeCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new XdmEdgeCommand()).execute(args));
    }
}
