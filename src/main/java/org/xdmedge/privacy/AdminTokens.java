package org.xdmedge.privacy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The bearer tokens of the privacy API, known only by their SHA-256 ({@code privacy.adminTokens},
 * lower-case hex), so the configuration holds no secret. Digests are compared in constant time.
 */
public final class AdminTokens {
    /** What an {@code Authorization} header amounts to. */
    public enum Verdict { ALLOWED, MISSING, WRONG }

    private final List<byte[]> digests;

    public AdminTokens(List<String> sha256Hex) {
        this.digests = sha256Hex.stream().map(HexFormat.of()::parseHex).toList();
    }

    public Verdict check(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                || authorization.length() == 7) {
            return Verdict.MISSING;
        }
        byte[] digest = sha256(authorization.substring(7).trim());
        boolean found = false;
        for (byte[] d : digests) {
            found |= MessageDigest.isEqual(d, digest);
        }
        return found ? Verdict.ALLOWED : Verdict.WRONG;
    }

    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256Hex(String token) {
        return HexFormat.of().formatHex(sha256(token));
    }
}
