package org.xdmedge.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.xdmedge.protocol.EdgeJson;

/**
 * The real {@code target/xdm-edge.jar} run as a child process on loopback ({@code serve --port 0}),
 * for tests that need signals: SIGTERM ({@link #terminate}) and SIGKILL ({@link #kill}). Its output
 * goes to {@code <data>/../edge-N.log}.
 */
public final class EdgeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("xdm-edge listening on https?://([^:]+):(\\d+)");
    private final Process process;
    private final int port;
    private final Path log;
    private final Thread pump;

    private EdgeProcess(Process process, int port, Path log, Thread pump) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.pump = pump;
    }

    public static Path jar() {
        String configured = System.getProperty("xdmedge.jar");
        Path jar = configured != null ? Path.of(configured) : Path.of("target", "xdm-edge.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no runnable jar at " + jar.toAbsolutePath() + "; run `./mvnw verify`");
        }
        return jar;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Starts {@code serve} with {@code yaml} as its configuration and waits (bounded) until it listens. */
    public static EdgeProcess start(Path workDir, Path dataDir, String yaml) throws Exception {
        return start(workDir, dataDir, yaml, List.of());
    }

    /** As {@link #start(Path, Path, String)}, with more JVM options (system properties for experiments). */
    public static EdgeProcess start(Path workDir, Path dataDir, String yaml, List<String> jvmOptions) throws Exception {
        Files.createDirectories(workDir);
        Path config = workDir.resolve("edge.yaml");
        Files.writeString(config, yaml);
        Path log = Files.createTempFile(workDir, "edge-", ".log");
        // The JVM options the edge ships with (./xdm-edge passes the same file).
        List<String> command = new ArrayList<>(List.of(java(), "@" + Path.of("jvm.options").toAbsolutePath(), "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", jar().toString(), "serve",
                "--host", "127.0.0.1", "--port", "0", "--data", dataDir.toString(), "--config", config.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                 PrintWriter out = new PrintWriter(Files.newBufferedWriter(log), true)) {
                String line;
                while ((line = in.readLine()) != null) {
                    out.println(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(2)));
                    }
                }
            } catch (IOException e) {
                port.completeExceptionally(e);
            } finally {
                port.completeExceptionally(new IllegalStateException("the edge exited before listening; see " + log));
            }
        }, "edge-process-output");
        pump.setDaemon(true);
        pump.start();
        try {
            return new EdgeProcess(process, port.get(60, TimeUnit.SECONDS), log, pump);
        } catch (Exception e) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new IllegalStateException("the edge did not start; output in " + log + ":\n" + Files.readString(log), e);
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** Sends SIGTERM and waits (bounded) for the exit code. */
    public int terminate(long timeoutSeconds) throws Exception {
        // Through the handle: Process.destroy() would also close our end of its output pipe.
        process.toHandle().destroy();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("the edge did not exit within " + timeoutSeconds + " s of SIGTERM; see " + log);
        }
        pump.join(TimeUnit.SECONDS.toMillis(30)); // the log is complete once the pipe is drained
        return process.exitValue();
    }

    /** Sends SIGKILL: no shutdown hook, no flush, nothing. */
    public void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the edge survived SIGKILL");
        }
    }

    /** What a finished run of the jar printed (stdout and stderr together) and its exit code. */
    public record Run(int exitCode, String output) {}

    /** Runs the jar with {@code args} in {@code workDir} to its end (bounded), for commands expected to stop. */
    public static Run run(Path workDir, List<String> args, long timeoutSeconds) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar().toAbsolutePath().toString()));
        command.addAll(args);
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try (var in = process.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output unreadable: " + e + ")";
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError("still running after " + timeoutSeconds + " s: " + output.get(30, TimeUnit.SECONDS));
        }
        return new Run(process.exitValue(), output.get(30, TimeUnit.SECONDS));
    }

    /** Runs the jar's {@code export --data DIR} as its own process; every line parsed. */
    public static List<JsonNode> export(Path dataDir) throws Exception {
        Process export = new ProcessBuilder(java(), "-jar", jar().toString(), "export", "--data", dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<JsonNode> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(export.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!line.isBlank()) {
                    lines.add(EdgeJson.MAPPER.readTree(line));
                }
            }
        }
        if (!export.waitFor(120, TimeUnit.SECONDS)) {
            export.destroyForcibly();
            throw new AssertionError("export did not finish");
        }
        if (export.exitValue() != 0) {
            throw new AssertionError("export exited with " + export.exitValue());
        }
        return lines;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
