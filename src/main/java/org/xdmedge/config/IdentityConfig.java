package org.xdmedge.config;

/**
 * {@code identity:} settings shared by all organizations.
 *
 * @param fpidSecret key of the HMAC that turns an FPID into its ECID; an organization may set its own
 *                   ({@code organizations[].fpidSecret}), which wins. Without any, FPIDs seed no ECID.
 */
public record IdentityConfig(String fpidSecret) {
    public static IdentityConfig defaults() {
        return new IdentityConfig(null);
    }
}
