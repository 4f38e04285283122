package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.testing.TestCertificate;
import org.xdmedge.testing.TestEdge;
import picocli.CommandLine;

/** Native TLS: the edge serves HTTPS from a PEM pair made at test time. */
class TlsListenerTest {
    @TempDir
    Path dir;

    @Test
    void servesHttpsWithThePemPairAndStoresEvents() throws Exception {
        TestCertificate cert = TestCertificate.create(dir.resolve("tls"), "edge.test");
        try (TestEdge edge = TestEdge.start(TestEdge.BASIC_CONFIG, dir.resolve("data"), cert)) {
            assertThat(edge.uri("/health").getScheme()).isEqualTo("https");
            HttpResponse<String> health = edge.get("/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.sslSession()).isPresent();
            assertThat(health.sslSession().get().getPeerCertificates()[0]).isEqualTo(cert.certificate());

            HttpResponse<String> res = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v1/interact?configId=ds"))
                    .header("content-type", "text/plain;charset=UTF-8").header("origin", "https://page.test")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"events\":[{\"xdm\":{\"eventType\":\"t\"}}]}")));
            assertThat(res.statusCode()).isEqualTo(200);
            assertThat(res.headers().firstValue("access-control-allow-origin")).contains("https://page.test");
            assertThat(edge.exported()).hasSize(1);

            // Plain HTTP to the TLS port gets no HTTP answer.
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port() + "/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void configNeedsBothReadableFiles() throws Exception {
        String keyOnly = TestEdge.BASIC_CONFIG.replace("eventLoops: 2 }",
                "eventLoops: 2, tls: { keyFile: " + dir.resolve("missing.pem") + " } }");
        assertThatThrownBy(() -> new ConfigLoader().parse(keyOnly, "test"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("server.tls.certFile").hasMessageContaining("is required")
                .hasMessageContaining("server.tls.keyFile").hasMessageContaining("cannot read");

        TestCertificate cert = TestCertificate.create(dir.resolve("tls"), "edge.test");
        String both = TestEdge.BASIC_CONFIG.replace("eventLoops: 2 }",
                "eventLoops: 2, tls: { certFile: " + cert.certFile() + ", keyFile: " + cert.keyFile() + " } }");
        var config = new ConfigLoader().parse(both, "test");
        assertThat(config.server().tls().certFile()).isEqualTo(cert.certFile().toString());
        assertThat(config.server().tls().enabled()).isTrue();
    }

    @Test
    void serveRefusesAHalfOrBrokenPemPair() throws Exception {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new XdmEdgeCommand());
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("serve", "--host", "127.0.0.1", "--port", "0", "--data", dir.resolve("d1").toString(),
                "--tls-cert", dir.resolve("nope.pem").toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--tls-cert cannot read").contains("--tls-key is required");

        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a pem\n");
        StringWriter err2 = new StringWriter();
        CommandLine cli2 = new CommandLine(new XdmEdgeCommand());
        cli2.setErr(new PrintWriter(err2));
        int code2 = cli2.execute("serve", "--host", "127.0.0.1", "--port", "0", "--data", dir.resolve("d2").toString(),
                "--tls-cert", garbage.toString(), "--tls-key", garbage.toString());
        assertThat(code2).isEqualTo(2);
        assertThat(err2.toString()).contains("cannot start the HTTPS listener");
    }
}
