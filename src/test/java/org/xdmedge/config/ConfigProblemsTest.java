package org.xdmedge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestCertificate;

/** Every problem of a configuration file in one run, in the configuration's words; relative paths. */
class ConfigProblemsTest {
    private final ConfigLoader loader = new ConfigLoader();

    @TempDir
    Path dir;

    @Test
    void everyUnknownKeyAndWrongTypeIsReportedInOneRunWithTheOtherProblems() {
        assertThatThrownBy(() -> loader.parse("""
                server:
                  port: eighty
                  maxRequestByte: 10
                storage: { queueCapacity: 0, colour: red }
                organizations:
                  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    apiKeys: [{ nested: 1 }]
                datastreams:
                  - id: ds
                    orgId: NOPE@AdobeOrg
                    dataset: events
                    enabled: sometimes
                    accessType: everyone
                  - id: ds2
                    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                    dataset: events
                    rateLimit: { requestsPerSecond: fast }
                """, "edge.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("edge.yaml: invalid configuration:")
                .hasMessageContaining("'server.port' at line 2: must be a whole number (found text)")
                .hasMessageContaining("'server.maxRequestByte' at line 3: unknown key (known keys here: ")
                .hasMessageContaining("'storage.colour' at line 4: unknown key")
                .hasMessageContaining("'storage.queueCapacity' at line 4: must be at least 1")
                .hasMessageContaining("'organizations[0].apiKeys[0]' at line 7: must be text (found a section of keys)")
                .hasMessageContaining("'datastreams[0].orgId' at line 10: names unknown organization")
                .hasMessageContaining("'datastreams[0].enabled' at line 12: must be true or false")
                .hasMessageContaining("'datastreams[0].accessType' at line 13: must be one of mixed, authenticated")
                .hasMessageContaining("'datastreams[1].rateLimit.requestsPerSecond' at line 17: must be a number")
                // a key set aside is reported once, not again as missing
                .satisfies(e -> assertThat(e.getMessage().split("'server.port'", -1)).hasSize(2))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("requestsPerSecond' at line 17: is required"))
                .satisfies(ConfigProblemsTest::speaksNoJava);
    }

    @Test
    void aSectionOfTheWrongKindIsNamedWithoutJavaClassNames() {
        assertThatThrownBy(() -> loader.parse("server: 5\nstorage: [1]\n", "edge.yaml"))
                .hasMessageContaining("'server' at line 1: must be a section of keys (name: value) (found a number)")
                .hasMessageContaining("'storage' at line 2: must be a section of keys")
                .satisfies(ConfigProblemsTest::speaksNoJava);
        assertThatThrownBy(() -> loader.parse("- a\n- b\n", "edge.yaml"))
                .hasMessageContaining("must be a section of keys").satisfies(ConfigProblemsTest::speaksNoJava);
    }

    @Test
    void aMissingFileIsSaidNotToExist() {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> loader.load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessage("configuration file " + missing + " does not exist; check the --config path");
        assertThatThrownBy(() -> loader.load(dir)).hasMessageContaining(dir + " is a directory");
    }

    @Test
    void relativeFilesResolveAgainstTheConfigurationFolderWhateverTheWorkingDirectory() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("conf"));
        TestCertificate cert = TestCertificate.create(folder.resolve("tls"), "edge.test");
        Path file = Files.writeString(folder.resolve("edge.yaml"), """
                server: { tls: { certFile: tls/edge-cert.pem, keyFile: ./tls/edge-key.pem } }
                datasets:
                  - name: k
                    outlet: kafka
                    kafka:
                      bootstrapServers: 127.0.0.1:9092
                      topic: t
                      producer: { ssl.truststore.location: certs/trust.p12, ssl.truststore.type: PKCS12,
                                  ssl.keystore.location: /abs/key.p12 }
                """);

        EdgeConfig config = loader.load(file);

        assertThat(config.server().tls().certFile()).isEqualTo(cert.certFile().toString());
        assertThat(config.server().tls().keyFile()).isEqualTo(cert.keyFile().toString());
        var producer = config.datasets().get(0).kafka().producer();
        assertThat(producer.get("ssl.truststore.location")).isEqualTo(folder.resolve("certs/trust.p12").toString());
        assertThat(producer.get("ssl.keystore.location")).isEqualTo("/abs/key.p12");
        assertThat(producer.get("ssl.truststore.type")).isEqualTo("PKCS12");
    }

    @Test
    void aCertificateWithAnotherKeysPrivateKeyStopsStartUp() throws Exception {
        var a = TestCertificate.create(dir.resolve("a"), "a.test");
        var b = TestCertificate.create(dir.resolve("b"), "b.test");
        String yaml = "server:\n  tls:\n    certFile: " + a.certFile() + "\n    keyFile: " + b.keyFile() + "\n";

        assertThatThrownBy(() -> loader.parse(yaml, "edge.yaml"))
                .hasMessageContaining("'server.tls.keyFile' at line 4: the private key in " + b.keyFile()
                        + " does not belong to the certificate in " + a.certFile());
        assertThat(loader.parse(yaml.replace(b.keyFile().toString(), a.keyFile().toString()), "edge.yaml")
                .server().tls().enabled()).isTrue();
    }

    static void speaksNoJava(Throwable e) {
        assertThat(e.getMessage()).doesNotContain("$", "org.xdmedge", "com.fasterxml", "java.", "Cannot deserialize",
                "Exception");
    }
}
