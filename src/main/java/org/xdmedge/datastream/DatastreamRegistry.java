package org.xdmedge.datastream;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.xdmedge.config.ConsentConfig;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeProblem;

/** Looks up datastreams by the id a client sends, with the v1 {@code :env} suffix handled. */
public final class DatastreamRegistry {
    private final Map<String, Datastream> byId = new LinkedHashMap<>();

    public DatastreamRegistry(EdgeConfig config) {
        for (var ds : config.datastreams()) {
            byId.put(ds.id(), new Datastream(ds.id(), ds.orgId(), ds.enabled(), ds.dataset(),
                    ConsentConfig.PENDING.equals(ds.consent().defaultConsent()),
                    ds.consent().iabVendorId(), new HashSet<>(ds.allowedDatasets()), ds.fpidCookie(),
                    ds.accessType(), ds.cookieDomain()));
        }
    }

    public Optional<Datastream> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /** The datastream a raw parameter value (possibly with {@code :env}) names, enabled or not. */
    public Optional<Datastream> findByParam(String rawId) {
        return rawId == null ? Optional.empty() : find(stripEnvironment(rawId));
    }

    /**
     * Resolves the raw parameter value to an enabled datastream, or throws the problem the client
     * gets: 0002 when missing, 0003 when unknown, 0004 when disabled.
     */
    public Datastream resolve(String rawId) {
        return resolveFor(rawId, null);
    }

    /**
     * Like {@link #resolve}, for a caller authenticated as organization {@code callerOrgId} (null for
     * an anonymous caller): another organization's datastream gets exactly the answer of an unknown
     * one, before its enabled flag is looked at, so its id cannot be probed.
     */
    public Datastream resolveFor(String rawId, String callerOrgId) {
        if (rawId == null || rawId.isBlank()) {
            throw new EdgeProblem(EdgeError.DATASTREAM_MISSING,
                    "No datastream ID was provided: set the datastreamId (or configId) query parameter.");
        }
        String id = stripEnvironment(rawId);
        Datastream ds = byId.get(id);
        if (ds == null || (callerOrgId != null && !callerOrgId.equals(ds.orgId()))) {
            throw unknown(rawId);
        }
        if (!ds.enabled()) {
            throw new EdgeProblem(EdgeError.DATASTREAM_DISABLED,
                    "The datastream '" + id + "' is disabled.", Map.of("configId", id), List.of(), null);
        }
        return ds;
    }

    /** The answer for a datastream id that does not exist (or that the caller may not see). */
    public static EdgeProblem unknown(String rawId) {
        String shown = rawId.length() > 128 ? rawId.substring(0, 128) + "…" : rawId;
        return new EdgeProblem(EdgeError.DATASTREAM_UNKNOWN,
                "The datastream ID '" + shown + "' referenced in your request does not exist.",
                Map.of("configId", shown), List.of(), null);
    }

    /** {@code my-ds:prod} names environment {@code prod} of {@code my-ds}; only prod exists here. */
    static String stripEnvironment(String rawId) {
        int colon = rawId.indexOf(':');
        return colon < 0 ? rawId : rawId.substring(0, colon);
    }
}
