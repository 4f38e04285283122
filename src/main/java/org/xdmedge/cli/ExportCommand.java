package org.xdmedge.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.xdmedge.store.EventRecords;
import org.xdmedge.store.EventReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code export}: prints stored events as JSON Lines; works with or without a running server. */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Print stored events as JSON Lines.")
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--dataset", description = "Only events of this dataset.")
    String dataset;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OutputStream out = new BufferedOutputStream(System.out, 1 << 16);
        try {
            EventReader.forEach(data, dataset, event -> {
                try {
                    EventRecords.write(event, out);
                    out.write('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (java.io.IOException e) {
            spec.commandLine().getErr().println("xdm-edge export: " + e.getMessage());
            return 1;
        } finally {
            out.flush();
        }
        return 0;
    }
}
