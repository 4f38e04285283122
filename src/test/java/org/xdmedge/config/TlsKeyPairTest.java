package org.xdmedge.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestCertificate;

/** The PEM pair check in every key format the listener takes: PKCS#8, PKCS#1 (RSA) and SEC1 (EC). */
class TlsKeyPairTest {
    @TempDir
    Path dir;

    @Test
    void ecKeysInPkcs8AndSec1MatchTheirCertificateAndNoOther() throws Exception {
        TestCertificate a = TestCertificate.create(dir.resolve("a"), "a.test");
        TestCertificate b = TestCertificate.create(dir.resolve("b"), "b.test");
        Path aSec1 = pem(dir.resolve("a-sec1.pem"), "EC PRIVATE KEY", innerKey(a.keyFile()));
        Path bSec1 = pem(dir.resolve("b-sec1.pem"), "EC PRIVATE KEY", innerKey(b.keyFile()));

        assertThat(TlsKeyPair.check(a.certFile(), a.keyFile())).isNull();
        assertThat(TlsKeyPair.check(a.certFile(), aSec1)).isNull();
        assertThat(TlsKeyPair.check(a.certFile(), b.keyFile())).isNotNull()
                .satisfies(p -> assertThat(p.message()).contains("does not belong to the certificate"));
        assertThat(TlsKeyPair.check(a.certFile(), bSec1)).isNotNull();
    }

    @Test
    void rsaKeysInPkcs8AndPkcs1MatchTheirCertificateAndNoOther() throws Exception {
        Path[] a = rsaPair(dir.resolve("ra"));
        Path[] b = rsaPair(dir.resolve("rb"));
        Path aPkcs1 = pem(dir.resolve("a-rsa.pem"), "RSA PRIVATE KEY", innerKey(a[1]));
        Path bPkcs1 = pem(dir.resolve("b-rsa.pem"), "RSA PRIVATE KEY", innerKey(b[1]));

        assertThat(TlsKeyPair.check(a[0], a[1])).isNull();
        assertThat(TlsKeyPair.check(a[0], aPkcs1)).isNull();
        assertThat(TlsKeyPair.check(a[0], b[1])).isNotNull();
        assertThat(TlsKeyPair.check(a[0], bPkcs1)).isNotNull();
        // An EC key for an RSA certificate is no match either.
        TestCertificate ec = TestCertificate.create(dir.resolve("ec"), "ec.test");
        assertThat(TlsKeyPair.check(a[0], ec.keyFile())).isNotNull();
    }

    @Test
    void filesThatHoldNoPemAreNamed() throws Exception {
        TestCertificate a = TestCertificate.create(dir.resolve("a"), "a.test");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a pem\n");

        assertThat(TlsKeyPair.check(garbage, a.keyFile())).satisfies(p -> {
            assertThat(p.inCertFile()).isTrue();
            assertThat(p.message()).contains(garbage + " holds no PEM certificate");
        });
        assertThat(TlsKeyPair.check(a.certFile(), garbage)).satisfies(p -> {
            assertThat(p.inCertFile()).isFalse();
            assertThat(p.message()).contains(garbage + " holds no PEM private key");
        });
        assertThat(TlsKeyPair.check(a.certFile(), a.certFile()).message()).contains("not a private key");
    }

    /** The key inside a PKCS#8 PrivateKeyInfo: its last element, an OCTET STRING holding PKCS#1 or SEC1. */
    private static byte[] innerKey(Path pkcs8Pem) throws Exception {
        String text = Files.readString(pkcs8Pem);
        byte[] der = Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", ""));
        int at = 0;
        int[] outer = header(der, at); // SEQUENCE
        at = outer[0];
        int[] version = header(der, at);
        at = version[0] + version[1];
        int[] algorithm = header(der, at);
        at = algorithm[0] + algorithm[1];
        int[] key = header(der, at);
        assertThat(der[at]).isEqualTo((byte) 0x04);
        return Arrays.copyOfRange(der, key[0], key[0] + key[1]);
    }

    private static int[] header(byte[] b, int at) {
        int length = b[at + 1] & 0xff;
        int offset = at + 2;
        if (length >= 0x80) {
            int n = length & 0x7f;
            length = 0;
            for (int i = 0; i < n; i++) {
                length = (length << 8) | (b[offset++] & 0xff);
            }
        }
        return new int[] {offset, length};
    }

    private static Path pem(Path file, String type, byte[] der) throws Exception {
        return Files.writeString(file, "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n");
    }

    /** An RSA certificate and its PKCS#8 key, made with the JDK's keytool as TestCertificate does for EC. */
    private static Path[] rsaPair(Path folder) throws Exception {
        Files.createDirectories(folder);
        Path store = folder.resolve("rsa.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "edge", "-keyalg", "RSA", "-keysize", "2048",
                "-validity", "3", "-dname", "CN=rsa.test", "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit", "-noprompt").redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            in.readAllBytes();
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("keytool").isTrue();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey("edge", "changeit".toCharArray());
        return new Path[] {
            pem(folder.resolve("cert.pem"), "CERTIFICATE", ks.getCertificate("edge").getEncoded()),
            pem(folder.resolve("key.pem"), "PRIVATE KEY", key.getEncoded())
        };
    }
}
