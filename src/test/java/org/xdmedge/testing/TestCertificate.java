package org.xdmedge.testing;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate made at test time with the JDK's own {@code keytool} (no openssl, no
 * extra library), written as the PEM pair the edge is configured with, plus an SSLContext that
 * trusts exactly it.
 */
public record TestCertificate(Path certFile, Path keyFile, X509Certificate certificate) {
    private static final char[] PASSWORD = "changeit".toCharArray();

    /** A certificate for {@code hosts} (DNS names) and 127.0.0.1, valid for a few days. */
    public static TestCertificate create(Path dir, String... hosts) throws Exception {
        Files.createDirectories(dir);
        Path store = dir.resolve("test-cert.p12");
        Files.deleteIfExists(store);
        StringBuilder san = new StringBuilder("SAN=ip:127.0.0.1");
        for (String host : hosts) {
            san.append(",dns:").append(host);
        }
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "edge", "-keyalg", "EC", "-groupname", "secp256r1",
                "-sigalg", "SHA256withECDSA", "-validity", "3", "-dname", "CN=" + (hosts.length > 0 ? hosts[0] : "localhost"),
                "-ext", san.toString(), "-keystore", store.toString(), "-storetype", "PKCS12",
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD), "-noprompt")
                .redirectErrorStream(true).start();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD);
        }
        PrivateKey key = (PrivateKey) ks.getKey("edge", PASSWORD);
        Certificate cert = ks.getCertificate("edge");
        Path certFile = dir.resolve("edge-cert.pem");
        Path keyFile = dir.resolve("edge-key.pem");
        Files.writeString(certFile, pem("CERTIFICATE", cert.getEncoded()));
        // PrivateKey.getEncoded() of an EC/RSA key is PKCS#8, which PEM names "PRIVATE KEY".
        Files.writeString(keyFile, pem("PRIVATE KEY", key.getEncoded()));
        return new TestCertificate(certFile, keyFile, (X509Certificate) cert);
    }

    /** Trusts this certificate only. */
    public SSLContext sslContext() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("edge", certificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    public List<String> yamlLines() {
        return List.of("certFile: " + certFile, "keyFile: " + keyFile);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
