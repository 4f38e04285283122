package org.xdmedge.identity;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import org.xdmedge.identity.proto.IdentityMetadata;
import org.xdmedge.identity.proto.IdentityState;

/**
 * The value of the {@code kndctr_<org>_identity} state item: base64url of the {@link IdentityState}
 * protobuf. The Web SDK decodes it locally to answer getIdentity, so it must be the real message.
 */
public final class IdentityCookie {
    /** The identity item is re-issued once its write time is older than this. */
    public static final long REISSUE_AFTER_MILLIS = 24L * 60 * 60 * 1000;

    /** Metadata codes as real identity items carry them (device 1 = browser, source 1 = edge). */
    private static final int DEVICE_TYPE_BROWSER = 1;
    private static final int SOURCE_EDGE = 1;

    private IdentityCookie() {}

    /** A decoded identity item. */
    public record Decoded(String ecid, long createdAtMillis, long writeTimeMillis) {
        public boolean stale(long nowMillis) {
            return nowMillis - writeTimeMillis > REISSUE_AFTER_MILLIS || writeTimeMillis > nowMillis + REISSUE_AFTER_MILLIS;
        }
    }

    public static String encode(String ecid, long createdAtMillis, boolean isNew, String region, long writeTimeMillis) {
        IdentityState state = IdentityState.newBuilder()
                .setEcid(ecid)
                .setMetadata(IdentityMetadata.newBuilder()
                        .setCreatedAt(createdAtMillis)
                        .setIsNew(isNew)
                        .setDeviceType(DEVICE_TYPE_BROWSER)
                        .setRegion(region.toUpperCase(Locale.ROOT))
                        .setSource(SOURCE_EDGE))
                .setWriteTime(writeTimeMillis)
                .build();
        return Base64.getUrlEncoder().encodeToString(state.toByteArray());
    }

    /** Decodes either base64 alphabet, padded or not; anything unreadable is treated as absent. */
    public static Optional<Decoded> decode(String value) {
        if (value == null || value.isEmpty() || value.length() > 4096) {
            return Optional.empty();
        }
        try {
            String urlSafe = value.replace('+', '-').replace('/', '_');
            IdentityState state = IdentityState.parseFrom(Base64.getUrlDecoder().decode(urlSafe));
            if (!Ecid.isValid(state.getEcid())) {
                return Optional.empty();
            }
            return Optional.of(new Decoded(state.getEcid(), state.getMetadata().getCreatedAt(), state.getWriteTime()));
        } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }
}
