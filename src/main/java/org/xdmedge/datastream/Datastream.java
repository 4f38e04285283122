package org.xdmedge.datastream;

import java.util.Set;
import org.xdmedge.config.AccessType;
import org.xdmedge.config.ConsentConfig;

/**
 * A datastream as the pipeline sees it: resolved, validated, immutable.
 *
 * @param pendingByDefault true when nothing is collected before a visitor's consent is recorded
 *                         ({@code consent.default: pending})
 * @param iabVendorId the IAB TCF vendor whose consent a TC string must carry
 * @param allowedDatasets datasets {@code meta.configOverrides} may send events to (besides {@code dataset})
 * @param fpidCookie name of the first-party cookie carrying an FPID, or null
 * @param accessType whether anonymous calls are served ({@code mixed}) or only authenticated ones
 * @param cookieDomain the first-party domain (for example {@code example.com}) on which state items
 *     also go out as {@code Set-Cookie}, or null to hand state to the client only in the body
 */
public record Datastream(String id, String orgId, boolean enabled, String dataset, boolean pendingByDefault,
                         int iabVendorId, Set<String> allowedDatasets, String fpidCookie, AccessType accessType,
                         String cookieDomain) {
    public Datastream {
        allowedDatasets = allowedDatasets == null ? Set.of() : Set.copyOf(allowedDatasets);
        accessType = accessType == null ? AccessType.MIXED : accessType;
    }

    public Datastream(String id, String orgId, boolean enabled, String dataset, boolean pendingByDefault,
                      int iabVendorId, Set<String> allowedDatasets, String fpidCookie, AccessType accessType) {
        this(id, orgId, enabled, dataset, pendingByDefault, iabVendorId, allowedDatasets, fpidCookie, accessType, null);
    }

    public Datastream(String id, String orgId, boolean enabled, String dataset, boolean pendingByDefault,
                      int iabVendorId, Set<String> allowedDatasets, String fpidCookie) {
        this(id, orgId, enabled, dataset, pendingByDefault, iabVendorId, allowedDatasets, fpidCookie, AccessType.MIXED, null);
    }

    public Datastream(String id, String orgId, boolean enabled, String dataset) {
        this(id, orgId, enabled, dataset, false, ConsentConfig.ADOBE_IAB_VENDOR_ID, Set.of(), null,
                AccessType.MIXED, null);
    }
}
