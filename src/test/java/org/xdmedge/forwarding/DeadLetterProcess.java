package org.xdmedge.forwarding;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A second process on a data directory's dead letters, for {@link DeadLetterLockTest}: {@code append
 * DIR FROM TO} appends letters FROM..TO one at a time as the edge does ("appending N" before each,
 * "appended N" after); {@code replay DIR} tries to take the letters for a replay and prints
 * "took N" or "running".
 */
public final class DeadLetterProcess {
    private DeadLetterProcess() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        if (args[0].equals("append")) {
            for (long seq = Long.parseLong(args[2]); seq <= Long.parseLong(args[3]); seq++) {
                System.out.println("appending " + seq);
                System.out.flush();
                DeadLetterStore.append(dir, List.of(DeadLetterLockTest.letter(seq)));
                System.out.println("appended " + seq);
                System.out.flush();
            }
        } else {
            try (DeadLetterStore.Replay replay = DeadLetterStore.takeForReplay(dir, "crm")) {
                System.out.println("took " + replay.entries().size());
            } catch (DeadLetterStore.ReplayRunning e) {
                System.out.println("running");
            }
        }
    }

    /** A running child process and its output lines. */
    static final class Child implements AutoCloseable {
        final Process process;
        final BufferedReader out;

        Child(String... args) throws IOException {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), DeadLetterProcess.class.getName()));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        String line() throws IOException {
            return out.readLine();
        }

        int exit() throws InterruptedException {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the child process did not end within 60 s");
            }
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
