package org.xdmedge.identity;

/**
 * The ECID a request runs under and what the answer must tell the client about it.
 *
 * @param source where the ECID came from
 * @param issueIdentityItem whether the answer carries a fresh {@code identity} state item
 * @param createdAtMillis when this ECID was first issued, for the identity item's metadata
 */
public record ResolvedIdentity(String ecid, Source source, boolean issueIdentityItem, long createdAtMillis) {
    /** Where a request's ECID came from, in precedence order. */
    public enum Source { IDENTITY_MAP, STATE, FPID_MAP, FPID_COOKIE, MINTED }

    public boolean isNew() {
        return source == Source.MINTED;
    }
}
