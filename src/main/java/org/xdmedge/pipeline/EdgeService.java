package org.xdmedge.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.xdmedge.datastream.Datastream;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.identity.ClientState;
import org.xdmedge.identity.IdentityCookie;
import org.xdmedge.identity.IdentityResolver;
import org.xdmedge.identity.ResolvedIdentity;
import org.xdmedge.identity.StateKeys;
import org.xdmedge.protocol.EdgeAction;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.EdgeRequest;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;
import org.xdmedge.protocol.EdgeRequest.IdentityItem;
import org.xdmedge.protocol.EdgeRequestParser;
import org.xdmedge.store.EventSink;
import org.xdmedge.store.SinkUnavailableException;
import org.xdmedge.store.StoredEvent;

/**
 * The core of the edge: datastream, body, identity, events, storage, answer. Plain Java in and out;
 * fatal answers are thrown (or completed exceptionally) as {@link EdgeProblem}.
 */
public final class EdgeService {
    private final DatastreamRegistry datastreams;
    private final EventSink sink;
    private final String region;

    public EdgeService(DatastreamRegistry datastreams, EventSink sink, String region) {
        this.datastreams = datastreams;
        this.sink = sink;
        this.region = region;
    }

    public CompletionStage<EdgeReply> handle(EdgeCall call) {
        try {
            return process(call);
        } catch (EdgeProblem problem) {
            return CompletableFuture.failedFuture(problem);
        }
    }

    private CompletionStage<EdgeReply> process(EdgeCall call) {
        Datastream datastream = datastreams.resolve(call.datastreamParam());
        EdgeRequest request = EdgeRequestParser.parse(call.action(), call.body());
        EdgeAction action = call.action();
        if (action == EdgeAction.V1_SET_CONSENT || action == EdgeAction.V1_IDENTITY_ACQUIRE) {
            // Consent and identity acquisition arrive with the SDK compatibility work.
            throw new EdgeProblem(EdgeError.NOT_FOUND, "The endpoint /" + action.version() + "/" + action.action()
                    + " is not served by this edge yet.");
        }
        ResolvedIdentity identity = action == EdgeAction.V2_COLLECT ? null
                : IdentityResolver.resolve(request, datastream.orgId(),
                        new ClientState(call.cookieHeaders(), request.stateEntries()), call.receivedAtMillis());

        List<StoredEvent> events = new ArrayList<>(request.events().size());
        for (EdgeEvent event : request.events()) {
            events.add(toStored(call, datastream, event, identity));
        }
        // The answer is built here, on the caller's thread, so the writer thread only commits.
        EdgeReply reply = answer(call, request, datastream, identity);
        CompletionStage<EdgeReply> stored = sink.write(events).handle((result, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                if (cause instanceof SinkUnavailableException unavailable) {
                    throw EdgeProblem.unavailable("The edge cannot store this request now: " + unavailable.getMessage()
                            + ". Retry later with the same requestId.", unavailable.retryAfterSeconds());
                }
                throw new EdgeProblem(EdgeError.UNEXPECTED, "The request could not be stored.");
            }
            return reply;
        });
        return stored;
    }

    private EdgeReply answer(EdgeCall call, EdgeRequest request, Datastream datastream, ResolvedIdentity identity) {
        switch (call.action()) {
            case V2_COLLECT:
                return call.silent() ? new EdgeReply(204, null) : new EdgeReply(202, body(call));
            case V1_COLLECT:
                return new EdgeReply(204, null);
            default:
                ObjectNode body = body(call);
                ArrayNode handles = body.putArray("handle");
                if (request.identityFetch().contains(IdentityResolver.ECID)) {
                    ObjectNode id = handle(handles, "identity:result").addObject();
                    id.put("id", identity.ecid());
                    id.putObject("namespace").put("code", IdentityResolver.ECID);
                }
                ObjectNode hint = handle(handles, "locationHint:result").addObject();
                hint.put("scope", "EdgeNetwork");
                hint.put("hint", region);
                hint.put("ttlSeconds", StateKeys.CLUSTER_MAX_AGE);
                ArrayNode state = handle(handles, "state:store");
                if (identity.issueIdentityItem()) {
                    ObjectNode item = state.addObject();
                    item.put("key", StateKeys.name(datastream.orgId(), StateKeys.IDENTITY));
                    item.put("value", IdentityCookie.encode(identity.ecid(), identity.createdAtMillis(), identity.isNew(),
                            region, call.receivedAtMillis()));
                    item.put("maxAge", StateKeys.IDENTITY_MAX_AGE);
                    item.putObject("attrs").put("SameSite", "None");
                }
                ObjectNode cluster = state.addObject();
                cluster.put("key", StateKeys.name(datastream.orgId(), StateKeys.CLUSTER));
                cluster.put("value", region);
                cluster.put("maxAge", StateKeys.CLUSTER_MAX_AGE);
                return new EdgeReply(200, body);
        }
    }

    private static ObjectNode body(EdgeCall call) {
        ObjectNode body = EdgeJson.MAPPER.createObjectNode();
        body.put("requestId", call.requestId());
        return body;
    }

    private static ArrayNode handle(ArrayNode handles, String type) {
        ObjectNode handle = handles.addObject();
        ArrayNode payload = handle.putArray("payload");
        handle.put("type", type);
        return payload;
    }

    /** Fills in what the dataset needs ({@code _id}, {@code timestamp}, the ECID) and picks the primary identity. */
    private static StoredEvent toStored(EdgeCall call, Datastream datastream, EdgeEvent event, ResolvedIdentity identity) {
        ObjectNode xdm = event.xdm();
        String eventId = event.eventId();
        if (eventId == null) {
            // A retry of the same request (same caller requestId) yields the same ids, so it is not stored twice.
            eventId = call.callerRequestId() == null ? UUID.randomUUID().toString()
                    : UUID.nameUUIDFromBytes((datastream.id() + "\n" + call.callerRequestId() + "\n" + event.index())
                    .getBytes(StandardCharsets.UTF_8)).toString();
            xdm.put("_id", eventId);
        }
        if (event.timestamp() == null) {
            xdm.put("timestamp", Instant.ofEpochMilli(call.receivedAtMillis()).toString());
        }
        IdentityItem primary = primaryIdentity(call.action(), event, identity);
        if (identity != null && event.first(IdentityResolver.ECID) == null) {
            addEcid(xdm, identity.ecid(), primary == null);
        }
        String primaryNs = primary != null ? primary.namespace() : IdentityResolver.ECID;
        String primaryId = primary != null ? primary.id() : identity.ecid();

        ObjectNode stored = EdgeJson.MAPPER.createObjectNode();
        stored.set("xdm", xdm);
        if (event.data() != null) {
            stored.set("data", event.data());
        }
        byte[] json;
        try {
            json = EdgeJson.MAPPER.writeValueAsBytes(stored);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new StoredEvent(call.requestId(), datastream.id(), datastream.dataset(), call.receivedAtMillis(),
                eventId, primaryNs, primaryId, json);
    }

    /**
     * The item marked primary; else an ECID in the event's map; else, for browser and app traffic,
     * the request's ECID (returned as null here). Server batches ({@code /v2/collect}) need one.
     */
    private static IdentityItem primaryIdentity(EdgeAction action, EdgeEvent event, ResolvedIdentity identity) {
        IdentityItem primary = null;
        for (IdentityItem item : event.identities()) {
            if (item.primary()) {
                if (primary != null) {
                    throw EdgeProblem.field(EdgeError.INVALID_IDENTITY, eventPath(action, event) + ".xdm.identityMap",
                            "event #" + event.index() + " marks more than one identity as primary");
                }
                primary = item;
            }
        }
        if (primary == null) {
            primary = event.first(IdentityResolver.ECID);
        }
        if (primary == null && identity == null) {
            throw new EdgeProblem(EdgeError.NO_PRIMARY_IDENTITY, "Event #" + event.index()
                    + " has no primary identity: mark one identityMap item with \"primary\": true.",
                    java.util.Map.of("eventIndex", event.index()),
                    List.of(new EdgeProblem.FieldError(eventPath(action, event) + ".xdm.identityMap",
                            "no primary identity")), null);
        }
        return primary;
    }

    private static String eventPath(EdgeAction action, EdgeEvent event) {
        return action == EdgeAction.V2_INTERACT ? "event" : "events[" + event.index() + "]";
    }

    private static void addEcid(ObjectNode xdm, String ecid, boolean primary) {
        JsonNode map = xdm.get("identityMap");
        ObjectNode identityMap = map instanceof ObjectNode o ? o : xdm.putObject("identityMap");
        ObjectNode item = identityMap.putArray(IdentityResolver.ECID).addObject();
        item.put("id", ecid);
        item.put("authenticatedState", "ambiguous");
        item.put("primary", primary);
    }
}
