package org.xdmedge.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.xdmedge.StartupException;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.quality.DataQuality;
import org.xdmedge.quality.Quarantine;
import org.xdmedge.store.log.EventReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code export}: prints stored events as JSON Lines; works with or without a running server. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Print stored events as JSON Lines.")
public final class ExportCommand extends Task {
    @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--dataset", description = "Only events of this dataset.")
    String dataset;

    @Override
    protected int execute() throws Exception {
        export();
        return 0;
    }

    private static void write(StoredEvent event, OutputStream out) {
        try {
            EventRecords.write(event, out);
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every stored event of {@code dataset} (all without it); a dataset without events is named with the ones there are. */
    private void export() throws IOException, StartupException {
        OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
        Set<String> stored = new TreeSet<>();
        try {
            if (DataQuality.QUARANTINE_DATASET.equals(dataset)) {
                // The quarantine as it is now: the newest record of each event, replayed ones left out.
                Quarantine.forEachCurrent(data, null, entry -> {
                    stored.add(dataset);
                    write(entry.stored(), out);
                });
            } else {
                EventReader.forEach(data, null, event -> {
                    stored.add(event.dataset());
                    if (dataset != null && !dataset.equals(event.dataset())) {
                        return;
                    }
                    write(event, out);
                });
            }
        } catch (IOException e) {
            throw new StartupException(e.getMessage() + "; check --data", Failures.USAGE, e);
        } finally {
            out.flush();
        }
        if (DataQuality.QUARANTINE_DATASET.equals(dataset) && stored.isEmpty()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("xdm-edge: no events in quarantine in " + data.toAbsolutePath().normalize());
            err.flush();
        } else if (dataset != null && !stored.contains(dataset)) {
            // Not an error (a configured dataset may have no events yet), but most often a typo.
            PrintWriter err = spec.commandLine().getErr();
            err.println("xdm-edge: no events of dataset '" + dataset + "' in " + data.toAbsolutePath().normalize()
                    + (stored.isEmpty() ? "; it holds no events yet" : "; the datasets there are: " + String.join(", ", stored)));
            err.flush();
        }
    }
}
