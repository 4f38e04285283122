package org.xdmedge.identity;

/** Names of the {@code kndctr_*} state items of spec §3. */
public final class StateKeys {
    public static final String IDENTITY = "identity";
    public static final String CLUSTER = "cluster";
    public static final String CONSENT = "consent";
    public static final String CONSENT_CHECK = "consent_check";

    public static final int IDENTITY_MAX_AGE = 34_128_000;
    public static final int CLUSTER_MAX_AGE = 1800;
    public static final int CONSENT_MAX_AGE = 15_552_000;
    public static final int CONSENT_CHECK_MAX_AGE = 7200;

    private StateKeys() {}

    /** {@code kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity} for org {@code 53A1...@AdobeOrg}. */
    public static String name(String orgId, String key) {
        int at = orgId.indexOf('@'); // not replaceFirst: that compiles a regex on every call
        String org = at < 0 ? orgId : orgId.substring(0, at) + '_' + orgId.substring(at + 1);
        return "kndctr_" + org + "_" + key;
    }
}
