package org.xdmedge.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.xdmedge.StartupException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.DestinationConfig;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.forwarding.DeadLetter;
import org.xdmedge.forwarding.DeadLetterStore;
import org.xdmedge.forwarding.HttpDestination;
import org.xdmedge.forwarding.PositionFile;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code destinations}: forwarding positions, lag and dead letters; works beside a running server. */
@Command(name = "destinations", mixinStandardHelpOptions = true,
        description = "Show event forwarding's positions and lag, list and replay dead letters.",
        subcommands = {DestinationsCommand.Status.class, DestinationsCommand.DeadLetters.class})
public final class DestinationsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The destination ids of {@code config}, else those with a position file under {@code data}. */
    static List<String> destinations(Path data, EdgeConfig config) throws IOException {
        if (config != null) {
            return config.destinations().stream().map(DestinationConfig::id).toList();
        }
        TreeSet<String> ids = new TreeSet<>();
        Path folder = PositionFile.folder(data);
        if (Files.isDirectory(folder)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.{position,deadletters}")) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    ids.add(name.substring(0, name.lastIndexOf('.')));
                }
            }
        }
        return List.copyOf(ids);
    }

    static EdgeConfig config(Path file) throws Exception {
        return file == null ? null : new ConfigLoader().load(file);
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Each destination's position in the event log, its lag and its dead letters.")
    static final class Status extends Task {
        @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
        Path data;

        @Option(names = "--config", description = "The edge's YAML configuration (default: the destinations with a position under --data).")
        Path config;

        @Override
        protected int execute() throws Exception {
            status(out());
            return 0;
        }

        private void status(PrintWriter out) throws Exception {
            if (!EventReader.exists(data)) {
                throw new StartupException("no event store at " + data.toAbsolutePath() + "; check --data", Failures.USAGE, null);
            }
            List<String> ids = destinations(data, config(config));
            if (ids.isEmpty()) {
                out.println("no destinations" + (config == null ? " have a position in " + data + " (give --config to list configured ones)" : " are configured"));
                out.flush();
                return;
            }
            Map<String, Long> positions = new LinkedHashMap<>();
            long from = Long.MAX_VALUE;
            for (String id : ids) {
                long p = PositionFile.read(PositionFile.of(data, id));
                positions.put(id, p);
                from = Math.min(from, p);
            }
            // The first event after each position: when it was received is how far behind the destination is.
            Map<String, Long> oldest = new LinkedHashMap<>();
            long[] end = {from};
            EventReader.forEachAfter(data, from, (seq, event) -> {
                end[0] = seq;
                positions.forEach((id, p) -> {
                    if (seq > p && !oldest.containsKey(id)) {
                        oldest.put(id, event.receivedAtMillis());
                    }
                });
                return true;
            });
            long now = System.currentTimeMillis();
            out.printf("%-24s %12s %12s %12s %12s %12s%n", "destination", "position", "log end", "lag events", "lag seconds",
                    "dead letters");
            for (String id : ids) {
                long p = positions.get(id);
                Long first = oldest.get(id);
                out.printf("%-24s %12d %12d %12d %12.1f %12d%n", id, p, end[0], Math.max(0, end[0] - p),
                        first == null ? 0.0 : Math.max(0, now - first) / 1000.0, DeadLetterStore.list(data, id).size());
            }
            out.flush();
        }
    }

    @Command(name = "dead-letters", mixinStandardHelpOptions = true,
            description = "List a destination's dead letters, or send them again.",
            subcommands = {DeadLetters.ListCommand.class, DeadLetters.Replay.class})
    static final class DeadLetters implements Runnable {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Each dead letter: its event and why it failed.")
        static final class ListCommand extends Task {
            @Option(names = "--destination", required = true, paramLabel = "ID", description = "The destination's id.")
            String destination;

            @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
            Path data;

            @Option(names = "--config", description = "The edge's YAML configuration (checks the destination is configured).")
            Path config;

            @Option(names = "--json", description = "Print the stored JSON Lines (with the events) instead of a table.")
            boolean json;

            @Override
            protected int execute() throws Exception {
                EdgeConfig edge = config(config);
                if (edge != null) {
                    find(edge, destination);
                }
                PrintWriter out = out();
                List<DeadLetterStore.Entry> entries = DeadLetterStore.list(data, destination);
                if (!json) {
                    out.printf("%-24s %10s %-36s %-12s %6s %8s  %s%n", "dead-lettered at", "seq", "event id", "reason",
                            "status", "attempts", "error");
                }
                for (DeadLetterStore.Entry e : entries) {
                    if (json) {
                        out.println(EdgeJson.MAPPER.writeValueAsString(e.line()));
                    } else {
                        out.printf("%-24s %10d %-36s %-12s %6d %8d  %s%n", e.line().path("deadLetteredAt").asText(),
                                e.seq(), e.eventId(), e.reason(), e.status(), e.attempts(), e.line().path("error").asText(""));
                    }
                }
                if (!json) {
                    out.println(entries.size() + " dead letters of '" + destination + "'");
                }
                out.flush();
                return 0;
            }
        }

        @Command(name = "replay", mixinStandardHelpOptions = true,
                description = "Send a destination's dead letters again, in the order they failed; those that fail again stay.")
        static final class Replay extends Task {
            @Option(names = "--destination", required = true, paramLabel = "ID", description = "The destination's id.")
            String destination;

            @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
            Path data;

            @Option(names = "--config", required = true, description = "The edge's YAML configuration (the destination's URL, headers, secret).")
            Path config;

            @Override
            protected int execute() throws Exception {
                return replay(out());
            }

            private int replay(PrintWriter out) throws Exception {
                DestinationConfig d = find(config(config), destination);
                HttpDestination sender;
                try {
                    sender = HttpDestination.of(d, System::getenv);
                } catch (IllegalArgumentException e) {
                    throw new StartupException(e.getMessage() + "; set it in this command's environment", Failures.USAGE, e);
                }
                List<DeadLetter> failed = new ArrayList<>();
                int delivered = 0;
                int total;
                try (DeadLetterStore.Replay taken = take()) {
                    List<DeadLetterStore.Entry> entries = taken.entries();
                    total = entries.size();
                    int batch = d.batch().maxEvents();
                    for (int i = 0; i < entries.size(); i += batch) {
                        delivered += send(sender, entries.subList(i, Math.min(entries.size(), i + batch)), failed);
                    }
                    taken.finish(failed);
                }
                out.println("replayed " + delivered + " of " + total + " dead letters to '" + destination + "'"
                        + (failed.isEmpty() ? "" : "; " + failed.size() + " failed again and stay dead letters"));
                out.flush();
                return failed.isEmpty() ? 0 : Failures.FAILED;
            }

            private DeadLetterStore.Replay take() throws Exception {
                try {
                    return DeadLetterStore.takeForReplay(data, destination);
                } catch (DeadLetterStore.ReplayRunning e) {
                    throw new StartupException(e.getMessage(), Failures.FAILED, e);
                }
            }

            /** Sends {@code entries} (a few attempts for a failure worth another); returns how many were delivered. */
            private static int send(HttpDestination sender, List<DeadLetterStore.Entry> entries, List<DeadLetter> failed)
                    throws Exception {
                List<byte[]> records = new ArrayList<>();
                List<String> ids = new ArrayList<>();
                for (DeadLetterStore.Entry e : entries) {
                    records.add(EdgeJson.MAPPER.writeValueAsBytes(e.event()));
                    ids.add(e.eventId());
                }
                byte[] body = HttpDestination.body(records);
                HttpDestination.Outcome outcome = null;
                for (int attempt = 1; attempt <= 3; attempt++) {
                    outcome = sender.send(body, ids);
                    if (outcome.kind() != HttpDestination.Kind.RETRY) {
                        break;
                    }
                    Thread.sleep(200L << attempt);
                }
                if (outcome.kind() == HttpDestination.Kind.DELIVERED) {
                    return entries.size();
                }
                if (outcome.kind() == HttpDestination.Kind.REJECTED && entries.size() > 1) {
                    int n = 0;
                    for (DeadLetterStore.Entry e : entries) {
                        n += send(sender, List.of(e), failed);
                    }
                    return n;
                }
                long now = System.currentTimeMillis();
                for (int i = 0; i < entries.size(); i++) {
                    DeadLetterStore.Entry e = entries.get(i);
                    failed.add(new DeadLetter(sender.id(), outcome.kind() == HttpDestination.Kind.REJECTED ? "rejected" : e.reason(),
                            outcome.status(), outcome.error(), e.attempts() + 1, now, e.seq(), records.get(i)));
                }
                return 0;
            }
        }
    }

    static DestinationConfig find(EdgeConfig config, String id) throws StartupException {
        for (DestinationConfig d : config.destinations()) {
            if (d.id().equals(id)) {
                return d;
            }
        }
        List<String> known = config.destinations().stream().map(DestinationConfig::id).toList();
        throw new StartupException("no destination '" + id + "' in the configuration; "
                + (known.isEmpty() ? "it has no destinations" : "its destinations are: " + String.join(", ", known)),
                Failures.USAGE, null);
    }
}
