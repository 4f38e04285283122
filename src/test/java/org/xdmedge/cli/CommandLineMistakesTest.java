package org.xdmedge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.DataDirectoryLock;
import org.xdmedge.testing.TestCertificate;
import org.xdmedge.testing.TestEdge;

/**
 * Start-up and command-line mistakes, through the jar's own entry point in this JVM: one
 * {@code xdm-edge:} line naming the thing and what to do, exit code 2 for a usage or configuration
 * mistake and 1 for a condition of the moment, a stack trace only with {@code --verbose}.
 */
class CommandLineMistakesTest {
    @TempDir
    Path dir;

    record Result(int code, String err) {
        /** The one line the mistake is answered with. */
        String line() {
            assertThat(err.lines().toList()).as("exactly one line, no stack trace:\n" + err).hasSize(1);
            String line = err.lines().findFirst().orElseThrow();
            assertThat(line).startsWith("xdm-edge: ");
            return line;
        }
    }

    private Result run(String... args) {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        var cli = XdmEdgeCommand.commandLine();
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(out));
        int code = cli.execute(args);
        return new Result(code, err.toString());
    }

    private String[] serve(String... more) {
        String[] base = {"serve", "--host", "127.0.0.1", "--data", dir.resolve("data").toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    private Path config(String yaml) throws Exception {
        return Files.writeString(dir.resolve("edge.yaml"), yaml);
    }

    @Test
    void aPortOutOfRangeIsAUsageMistake() {
        Result r = run(serve("--port", "70000"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.line()).contains("--port 70000").contains("out of range").contains("65535");

        Result notANumber = run(serve("--port", "eighty"));
        assertThat(notANumber.code()).isEqualTo(2);
        assertThat(notANumber.line()).contains("--port").contains("'eighty'").contains("--help");
    }

    @Test
    void aMissingConfigurationFileIsSaidNotToExist() {
        Path missing = dir.resolve("nope.yaml");
        Result r = run(serve("--port", "0", "--config", missing.toString()));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.line()).isEqualTo("xdm-edge: configuration file " + missing + " does not exist; check the --config path");
    }

    @Test
    void everyProblemOfAConfigurationFileComesInOneRunWithoutJavaNames() throws Exception {
        Path file = config("""
                server: { port: eighty, tls: 3 }
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    colour: red
                datastreams:
                  - id: ds
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: events
                    shape: round
                """);
        Result r = run(serve("--port", "0", "--config", file.toString()));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("xdm-edge: " + file + ": invalid configuration:")
                .contains("'server.port' at line 1", "'server.tls' at line 1", "'organizations[0].colour' at line 4",
                        "'datastreams[0].shape' at line 9")
                .doesNotContain("$", "org.xdmedge", "com.fasterxml", "Exception", "\tat ");
    }

    @Test
    void aDataDirectoryThatCannotBeWrittenIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        Result r = run("serve", "--host", "127.0.0.1", "--port", "0", "--data", file.resolve("data").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.line()).contains("cannot use data directory " + file.resolve("data"))
                .contains("choose a --data directory").doesNotContain("SQL");
    }

    @Test
    void aDataDirectoryInUseIsNamed() throws Exception {
        Path data = dir.resolve("data");
        try (DataDirectoryLock held = DataDirectoryLock.acquire(data)) {
            Result r = run(serve("--port", "0"));
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.line()).contains("data directory " + data.toRealPath()).contains("is in use");
        }
    }

    @Test
    void aBusyPortIsNamedAndTheDataDirectoryIsLeftFree() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Result r = run(serve("--port", String.valueOf(port)));
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.line()).contains("cannot listen on 127.0.0.1:" + port).contains("in use").contains("--port");

            Result verbose = run(serve("--port", String.valueOf(port), "--verbose"));
            assertThat(verbose.code()).isEqualTo(1);
            assertThat(verbose.err()).startsWith(r.line()).contains("BindException").contains("\tat ");
        }
        // Everything the failed start opened is closed again, the lock included.
        DataDirectoryLock.acquire(dir.resolve("data")).close();
    }

    @Test
    void aCertificateWithAnotherKeysPrivateKeyIsRefused() throws Exception {
        TestCertificate a = TestCertificate.create(dir.resolve("a"), "a.test");
        TestCertificate b = TestCertificate.create(dir.resolve("b"), "b.test");
        Result r = run(serve("--port", "0", "--tls-cert", a.certFile().toString(), "--tls-key", b.keyFile().toString()));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.line()).contains("--tls-key").contains(b.keyFile().toString())
                .contains("does not belong to the certificate in " + a.certFile());
    }

    @Test
    void exportOfADatasetWithoutEventsNamesTheDatasetsThereAre() throws Exception {
        Path data = dir.resolve("data");
        try (TestEdge edge = TestEdge.start(data)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{\"_id\":\"e-1\",\"eventType\":\"test\","
                    + "\"identityMap\":{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}}}]}")
                    .statusCode()).isEqualTo(202);
        }
        PrintStream original = System.out;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        Result r;
        try {
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            r = run("export", "--data", data.toString(), "--dataset", "web-event");
        } finally {
            System.setOut(original);
        }
        assertThat(stdout.size()).isZero();
        assertThat(r.code()).isZero();
        assertThat(r.line()).contains("no events of dataset 'web-event'").contains("the datasets there are: web-events");

        Result noStore = run("export", "--data", dir.resolve("empty").toString());
        assertThat(noStore.code()).isEqualTo(2);
        assertThat(noStore.line()).contains("no event store at").contains("--data");
    }
}
