package org.xdmedge.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.xdmedge.StartupException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.quality.QuarantineReplay;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code quarantine}: what to do with invalid events kept in the dataset {@code quarantine}. */
@Command(name = "quarantine", mixinStandardHelpOptions = true,
        description = "Work with invalid events kept in the dataset 'quarantine' (see them with export --dataset quarantine).",
        subcommands = QuarantineCommand.Replay.class)
public final class QuarantineCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code quarantine replay}: checks quarantined events again and stores those that now pass. */
    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Run the configuration's mapping and schema over quarantined events; store those that pass "
                    + "in their dataset (once each). Stop the edge on this data directory first.")
    public static final class Replay extends Task {
        @Option(names = "--config", required = true, description = "YAML configuration whose mapping and schemas apply.")
        Path config;

        @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
        Path data;

        @Option(names = "--datastream", paramLabel = "ID", description = "Only the events of this datastream.")
        String datastream;

        @Override
        protected int execute() throws Exception {
            return replay();
        }

        private int replay() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            EdgeConfig loaded = new ConfigLoader().load(config);
            if (!Files.isDirectory(data)) {
                throw new StartupException("no data directory at " + data.toAbsolutePath().normalize() + "; check --data",
                        Failures.USAGE, null);
            }
            QuarantineReplay.Report report = QuarantineReplay.run(loaded, data, datastream, handled -> {
                out.println("committed: " + handled + " events handled");
                out.flush();
            });
            for (String note : report.notes()) {
                out.println("note: " + note);
            }
            out.println("replayed " + report.examined() + " quarantined events: " + report.stored()
                    + " stored in their dataset, " + report.alreadyStored() + " already there, " + report.stillInvalid()
                    + " still invalid (" + report.requarantined() + " with new reasons), " + report.skipped() + " skipped");
            out.flush();
            return 0;
        }
    }
}
