package org.xdmedge.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.xdmedge.DataDirectoryLock;
import org.xdmedge.StartupException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.privacy.DeletionRecords;
import org.xdmedge.privacy.JobRequest;
import org.xdmedge.privacy.PrivacyJob;
import org.xdmedge.privacy.PrivacyJobs;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.state.SharedState;
import org.xdmedge.store.log.FramePacking;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code privacy access|delete}: the privacy jobs of {@code /privacy/jobs} on a stopped edge (it
 * takes the data directory's lock). An access prints the person's events as {@code export} does;
 * a delete deletes them, their identity state, and rewrites the segments that held them.
 */
@Command(name = "privacy", mixinStandardHelpOptions = true, description = "Give or delete a person's stored events (docs/PRIVACY.md).",
        subcommands = {PrivacyCommand.Access.class, PrivacyCommand.Delete.class})
public final class PrivacyCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    abstract static class Job extends Task {
        @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
        Path data;

        @Option(names = "--config", description = "YAML configuration the edge runs with (its datastreams name each event's organization; default: the embedded one).")
        Path config;

        @Option(names = "--org", required = true, description = "Organization id (…@AdobeOrg).")
        String org;

        @Option(names = "--namespace", required = true, description = "Identity namespace, as sent (ECID, Email_LC_SHA256, …).")
        String namespace;

        @Option(names = "--id", required = true, description = "The identity's value.")
        String id;

        abstract String action();

        @Override
        protected int execute() throws Exception {
            run();
            return 0;
        }

        private void run() throws Exception {
            if (!Files.isDirectory(data)) {
                throw new StartupException("no data directory at " + data.toAbsolutePath() + "; check --data", Failures.USAGE, null);
            }
            EdgeConfig cfg = config == null ? new ConfigLoader().loadDefault() : new ConfigLoader().load(config);
            String body = """
                    {"companyContexts":[{"namespace":"imsOrgID","value":%s}],"regulation":"cli",
                     "users":[{"key":"cli","action":["%s"],"userIDs":[{"namespace":%s,"value":%s}]}]}"""
                    .formatted(quote(org), action(), quote(namespace), quote(id));
            JobRequest request;
            try {
                request = JobRequest.parse(body.getBytes(StandardCharsets.UTF_8));
            } catch (JobRequest.Malformed e) {
                throw new StartupException(e.getMessage().replace("companyContexts[0].value", "--org")
                        .replace("users[0].userIDs[0].namespace", "--namespace")
                        .replace("users[0].userIDs[0].value", "--id"), Failures.USAGE, e);
            }
            Map<String, String> orgs = new HashMap<>();
            cfg.datastreams().forEach(ds -> orgs.put(ds.id(), ds.orgId()));
            try (DataDirectoryLock lock = DataDirectoryLock.acquire(data);
                 SharedState state = SharedState.open(cfg.state(), data);
                 PrivacyJobs jobs = new PrivacyJobs(data, orgs, state.identityState()::delete, null,
                         FramePacking.of(cfg.storage().compression()), Duration.ZERO)
                         .publishTo(DeletionRecords.of(cfg))) {
                jobs.start(); // a job a stop cut short finishes first
                List<PrivacyJob> made = null;
                while (made == null) {
                    try {
                        made = jobs.submit(request);
                    } catch (PrivacyJobs.QueueFull full) {
                        jobs.awaitIdle(Duration.ofMinutes(30)); // the jobs resumed above take the queue first
                    }
                }
                String jobId = made.get(0).jobId();
                PrivacyJob job = jobs.get(jobId).orElseThrow();
                for (int i = 0; i < 100 && !finished(job); i++) {
                    jobs.awaitIdle(Duration.ofMinutes(30));
                    job = jobs.get(jobId).orElseThrow();
                }
                if (PrivacyJob.PROCESSING.equals(job.status())) {
                    throw new StartupException("privacy job " + jobId + " could not finish (the log says why; most often"
                            + " Kafka could not take the deletion record); it runs again at the next start", StartupException.RUNTIME, null);
                }
                if (!PrivacyJob.COMPLETE.equals(job.status())) {
                    throw new StartupException("privacy job " + jobId + " failed: " + job.error(), StartupException.RUNTIME, null);
                }
                if (job.delete()) {
                    PrintWriter out = spec.commandLine().getOut();
                    out.println("{\"jobId\":\"" + jobId + "\",\"status\":\"complete\",\"events\":" + job.events()
                            + ",\"reclaimed\":" + job.reclaimed() + "}");
                    out.flush();
                } else {
                    PrintWriter out = spec.commandLine().getOut();
                    try (var lines = Files.lines(jobs.download(jobId), StandardCharsets.UTF_8)) {
                        lines.forEach(out::println);
                    }
                    out.flush();
                    jobs.discard(jobId); // printed: the person's events stay in no further file
                }
            }
        }

        private static boolean finished(PrivacyJob job) {
            return PrivacyJob.ERROR.equals(job.status())
                    || (PrivacyJob.COMPLETE.equals(job.status()) && (!job.delete() || job.reclaimed()));
        }

        private static String quote(String s) throws IOException {
            return EdgeJson.MAPPER.writeValueAsString(s);
        }
    }

    @Command(name = "access", mixinStandardHelpOptions = true, description = "Print a person's stored events as JSON Lines, as export does.")
    static final class Access extends Job {
        @Override
        String action() {
            return "access";
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a person's stored events and identity state.")
    static final class Delete extends Job {
        @Override
        String action() {
            return "delete";
        }
    }
}
