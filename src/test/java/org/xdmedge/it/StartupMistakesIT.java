package org.xdmedge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.TestCertificate;
import org.xdmedge.testing.TestEdge;

/**
 * Start-up mistakes as the real process answers them: everything it prints (log lines included)
 * is one {@code xdm-edge:} line, and the exit code says usage (2) or a condition of the moment (1).
 */
class StartupMistakesIT {
    @TempDir
    Path dir;

    @Test
    void aBusyPortIsOneLineNamingHostAndPort() throws Exception {
        Path config = Files.writeString(dir.resolve("edge.yaml"), TestEdge.BASIC_CONFIG);
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            EdgeProcess.Run run = EdgeProcess.run(dir, List.of("serve", "--host", "127.0.0.1", "--port", String.valueOf(port),
                    "--config", config.toString()), 60);

            assertThat(run.exitCode()).as(run.output()).isEqualTo(1);
            assertThat(run.output().lines().toList()).singleElement().satisfies(line -> assertThat(line)
                    .startsWith("xdm-edge: cannot listen on 127.0.0.1:" + port).contains("in use"));
        }
    }

    @Test
    void aMismatchedPairFromRelativePathsIsRefusedFromAnyWorkingDirectory() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("conf"));
        TestCertificate a = TestCertificate.create(folder.resolve("a"), "a.test");
        TestCertificate.create(folder.resolve("b"), "b.test");
        Path config = Files.writeString(folder.resolve("edge.yaml"), TestEdge.BASIC_CONFIG.replace("eventLoops: 2 }",
                "eventLoops: 2, tls: { certFile: a/edge-cert.pem, keyFile: b/edge-key.pem } }"));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));

        EdgeProcess.Run run = EdgeProcess.run(elsewhere, List.of("serve", "--host", "127.0.0.1", "--port", "0",
                "--config", config.toString()), 60);

        assertThat(run.exitCode()).as(run.output()).isEqualTo(2);
        assertThat(run.output()).startsWith("xdm-edge: " + config + ": invalid configuration:")
                .contains("'server.tls.keyFile' at line 1: the private key in " + folder.resolve("b/edge-key.pem")
                        + " does not belong to the certificate in " + a.certFile())
                .doesNotContain("\tat ", "Exception");
        assertThat(run.output().lines()).hasSize(2);
    }
}
