package org.xdmedge.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.KeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a PEM certificate and private key before the listener starts: a key that is not the
 * certificate's would make every TLS handshake fail while the edge looks healthy. The key signs a
 * random challenge and the certificate's public key must verify it.
 */
final class TlsKeyPair {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

    /** Which file is wrong and why, in words for the operator. */
    record Problem(boolean inCertFile, String message) {}

    private TlsKeyPair() {}

    /** Null when {@code keyFile} holds the private key of the first certificate in {@code certFile}. */
    static Problem check(Path certFile, Path keyFile) {
        PublicKey publicKey;
        try {
            publicKey = leafPublicKey(Files.readAllBytes(certFile));
        } catch (IOException | GeneralSecurityException e) {
            publicKey = null;
        }
        if (publicKey == null) {
            return new Problem(true, certFile + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        String keyText;
        try {
            keyText = Files.readString(keyFile, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return new Problem(false, "cannot read PEM private key file '" + keyFile + "'");
        }
        Matcher pem = PEM.matcher(keyText);
        if (!pem.find()) {
            return new Problem(false, keyFile + " holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
        }
        String type = pem.group(1);
        byte[] der = Base64.getMimeDecoder().decode(pem.group(2));
        PrivateKey key;
        try {
            key = switch (type) {
                case "PRIVATE KEY" -> KeyFactory.getInstance(publicKey.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(der));
                case "RSA PRIVATE KEY" -> KeyFactory.getInstance("RSA").generatePrivate(pkcs1(der));
                case "EC PRIVATE KEY" -> publicKey instanceof ECPublicKey ec
                        ? KeyFactory.getInstance("EC").generatePrivate(sec1(der, ec)) : null;
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(
                        keyFile + " holds an encrypted private key; give the key without a passphrase");
                default -> throw new IllegalArgumentException(keyFile + " holds a PEM '" + type
                        + "', not a private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
            };
        } catch (IllegalArgumentException e) {
            return new Problem(false, e.getMessage());
        } catch (GeneralSecurityException | IOException e) {
            key = null;
        }
        if (key == null || !signs(key, publicKey)) {
            return new Problem(false, "the private key in " + keyFile + " does not belong to the certificate in "
                    + certFile + "; give the key the certificate was issued for");
        }
        return null;
    }

    private static PublicKey leafPublicKey(byte[] pem) throws GeneralSecurityException {
        Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem));
        return chain.isEmpty() ? null : chain.iterator().next().getPublicKey();
    }

    /** True when a signature by {@code key} verifies with {@code publicKey}; keys of other kinds are not judged. */
    private static boolean signs(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (publicKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
            default -> null;
        };
        if (algorithm == null) {
            return true;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** PKCS#1 RSAPrivateKey: SEQUENCE { version, n, e, d, p, q, dp, dq, qinv }. */
    private static KeySpec pkcs1(byte[] der) throws IOException {
        List<byte[]> fields = new Der(der).sequence();
        if (fields.size() < 9) {
            throw new IOException("short RSA key");
        }
        BigInteger[] v = new BigInteger[9];
        for (int i = 0; i < 9; i++) {
            v[i] = new BigInteger(new Der(fields.get(i)).content(0x02));
        }
        return new RSAPrivateCrtKeySpec(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
    }

    /** SEC1 ECPrivateKey: SEQUENCE { version, privateKey OCTET STRING, ... }, on the certificate's curve. */
    private static KeySpec sec1(byte[] der, ECPublicKey publicKey) throws IOException {
        List<byte[]> fields = new Der(der).sequence();
        if (fields.size() < 2) {
            throw new IOException("short EC key");
        }
        return new ECPrivateKeySpec(new BigInteger(1, new Der(fields.get(1)).content(0x04)), publicKey.getParams());
    }

    /** Just enough DER to read the two key structures above: one element (tag, length, content). */
    private record Der(byte[] bytes) {
        /** The contents of this element, which must carry {@code tag}. */
        byte[] content(int tag) throws IOException {
            if (bytes.length < 2 || (bytes[0] & 0xff) != tag) {
                throw new IOException("unexpected DER tag");
            }
            int[] header = header(bytes, 0);
            return Arrays.copyOfRange(bytes, header[0], header[0] + header[1]);
        }

        /** The whole elements inside this SEQUENCE. */
        List<byte[]> sequence() throws IOException {
            byte[] inner = content(0x30);
            List<byte[]> out = new ArrayList<>();
            int at = 0;
            while (at < inner.length) {
                int[] header = header(inner, at);
                int end = header[0] + header[1];
                out.add(Arrays.copyOfRange(inner, at, end));
                at = end;
            }
            return out;
        }

        /** {content offset, content length} of the element starting at {@code at}. */
        private static int[] header(byte[] b, int at) throws IOException {
            if (at + 2 > b.length) {
                throw new IOException("truncated DER");
            }
            int length = b[at + 1] & 0xff;
            int offset = at + 2;
            if (length >= 0x80) {
                int n = length & 0x7f;
                if (n < 1 || n > 3 || offset + n > b.length) {
                    throw new IOException("bad DER length");
                }
                length = 0;
                for (int i = 0; i < n; i++) {
                    length = (length << 8) | (b[offset++] & 0xff);
                }
            }
            if (offset + length > b.length) {
                throw new IOException("truncated DER");
            }
            return new int[] {offset, length};
        }
    }
}
