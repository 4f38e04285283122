package org.xdmedge.identity;

import java.util.List;
import java.util.Optional;
import org.xdmedge.protocol.EdgeAction;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.EdgeRequest.IdentityItem;
import org.xdmedge.protocol.EdgeRequest;

/**
 * Decides the ECID of a browser or app request: ECID in an {@code identityMap} &gt; identity state
 * (cookie or {@code meta.state}) &gt; FPID in an {@code identityMap} &gt; FPID cookie &gt; newly minted.
 * An FPID seeds its ECID through {@link FpidSeeder}.
 */
public final class IdentityResolver {
    public static final String ECID = "ECID";

    private IdentityResolver() {}

    public static ResolvedIdentity resolve(EdgeRequest request, String orgId, ClientState state, long nowMillis) {
        return resolve(request, orgId, state, nowMillis, FpidSeeder.NONE, null);
    }

    /**
     * @param fpidCookie the value of the datastream's FPID cookie, or null
     */
    public static ResolvedIdentity resolve(EdgeRequest request, String orgId, ClientState state, long nowMillis,
                                           FpidSeeder fpids, String fpidCookie) {
        String fpidFromMap = checkFpids(request);
        if (fpidCookie != null && !FpidSeeder.isUuid(fpidCookie)) {
            throw EdgeProblem.field(EdgeError.INVALID_IDENTITY_FORMAT, "cookie",
                    "the FPID cookie must hold a UUID such as 79bf8e83-f708-414b-b1ed-5789ff33bf0b");
        }
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
        if (fpidFromMap != null) {
            Optional<String> seeded = fpids.ecid(orgId, fpidFromMap);
            if (seeded.isPresent()) {
                return new ResolvedIdentity(seeded.get(), ResolvedIdentity.Source.FPID_MAP, true, nowMillis);
            }
        }
        if (fpidCookie != null) {
            Optional<String> seeded = fpids.ecid(orgId, fpidCookie);
            if (seeded.isPresent()) {
                return new ResolvedIdentity(seeded.get(), ResolvedIdentity.Source.FPID_COOKIE, true, nowMillis);
            }
        }
        return new ResolvedIdentity(Ecid.mint(), ResolvedIdentity.Source.MINTED, true, nowMillis);
    }

    /**
     * Refuses any FPID that is not a UUID (0308) and returns the first one, or null. Runs for every
     * endpoint, server batches included.
     */
    public static String checkFpids(EdgeRequest request) {
        String found = null;
        for (EdgeRequest.EdgeEvent event : request.events()) {
            found = firstFpid(event.identities(), found, "events[" + event.index() + "].xdm.identityMap.FPID");
        }
        String path = request.action() == EdgeAction.V1_SET_CONSENT ? "identityMap.FPID" : "xdm.identityMap.FPID";
        return firstFpid(request.requestIdentities(), found, path);
    }

    private static String firstFpid(List<IdentityItem> items, String found, String path) {
        for (IdentityItem item : items) {
            if (!item.namespace().equals(FpidSeeder.FPID)) {
                continue;
            }
            if (!FpidSeeder.isUuid(item.id())) {
                throw EdgeProblem.field(EdgeError.INVALID_IDENTITY_FORMAT, path,
                        "an FPID must be a UUID such as 79bf8e83-f708-414b-b1ed-5789ff33bf0b");
            }
            if (found == null) {
                found = item.id();
            }
        }
        return found;
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
