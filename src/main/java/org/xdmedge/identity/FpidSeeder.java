package org.xdmedge.identity;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns a first-party device id (FPID, a UUID) into an ECID with HMAC-SHA256 keyed by a configured
 * secret: the same FPID gives the same ECID after a restart and on every node, with no lookup table,
 * and nobody without the secret can compute or forge the mapping. The organization is part of the
 * hashed input, so one FPID gives different ECIDs in different organizations.
 */
public final class FpidSeeder {
    public static final String FPID = "FPID";
    private static final String ALGORITHM = "HmacSHA256";
    /** No organization has a secret: FPIDs are checked but seed nothing. */
    public static final FpidSeeder NONE = new FpidSeeder(Map.of());

    private final Map<String, SecretKeySpec> keysByOrg = new HashMap<>();

    /** @param secretsByOrg the FPID secret of each organization that has one */
    public FpidSeeder(Map<String, String> secretsByOrg) {
        secretsByOrg.forEach((org, secret) ->
                keysByOrg.put(org, new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM)));
    }

    /**
     * 8-4-4-4-12 hex digits of either case. A loop, not a regex: it runs for the FPID on every
     * event, and a regex match allocates a matcher each time.
     */
    public static boolean isUuid(String value) {
        if (value == null || value.length() != 36) {
            return false;
        }
        for (int i = 0; i < 36; i++) {
            char c = value.charAt(i);
            boolean ok = i == 8 || i == 13 || i == 18 || i == 23 ? c == '-'
                    : c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The ECID of this FPID in this organization; empty when the organization has no secret. */
    public Optional<String> ecid(String orgId, String fpid) {
        SecretKeySpec key = keysByOrg.get(orgId);
        if (key == null) {
            return Optional.empty();
        }
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            byte[] digest = mac.doFinal((orgId + "\u0000" + fpid.toLowerCase(Locale.ROOT)).getBytes(StandardCharsets.UTF_8));
            ByteBuffer halves = ByteBuffer.wrap(digest);
            return Optional.of(Ecid.fromHalves(halves.getLong(), halves.getLong()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
