package org.xdmedge.identity;

import java.util.List;
import java.util.Optional;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.EdgeRequest;
import org.xdmedge.protocol.EdgeRequest.IdentityItem;

/**
 * Decides the ECID of a browser or app request: ECID in an {@code identityMap} &gt; identity state
 * (cookie or {@code meta.state}) &gt; newly minted.
 */
public final class IdentityResolver {
    public static final String ECID = "ECID";

    private IdentityResolver() {}

    public static ResolvedIdentity resolve(EdgeRequest request, String orgId, ClientState state, long nowMillis) {
        Optional<IdentityCookie.Decoded> cookie = state.get(orgId, StateKeys.IDENTITY).flatMap(IdentityCookie::decode);
        String fromMap = ecidFromMaps(request);
        if (fromMap != null) {
            boolean sameAsCookie = cookie.isPresent() && cookie.get().ecid().equals(fromMap);
            boolean issue = !sameAsCookie || cookie.get().stale(nowMillis);
            long created = sameAsCookie ? cookie.get().createdAtMillis() : nowMillis;
            return new ResolvedIdentity(fromMap, ResolvedIdentity.Source.IDENTITY_MAP, issue, created);
        }
        if (cookie.isPresent()) {
            return new ResolvedIdentity(cookie.get().ecid(), ResolvedIdentity.Source.STATE,
                    cookie.get().stale(nowMillis), cookie.get().createdAtMillis());
        }
        return new ResolvedIdentity(Ecid.mint(), ResolvedIdentity.Source.MINTED, true, nowMillis);
    }

    /** The first ECID of the request's identity maps; a malformed one is refused with 0308. */
    private static String ecidFromMaps(EdgeRequest request) {
        String found = null;
        for (EdgeRequest.EdgeEvent event : request.events()) {
            found = firstValid(event.identities(), found, "events[" + event.index() + "].xdm.identityMap.ECID");
        }
        return firstValid(request.requestIdentities(), found, "xdm.identityMap.ECID");
    }

    private static String firstValid(List<IdentityItem> items, String found, String path) {
        for (IdentityItem item : items) {
            if (!item.namespace().equals(ECID)) {
                continue;
            }
            if (!Ecid.isValid(item.id())) {
                throw EdgeProblem.field(EdgeError.INVALID_IDENTITY_FORMAT, path,
                        "an ECID must be exactly 38 decimal digits");
            }
            if (found == null) {
                found = item.id();
            }
        }
        return found;
    }
}
