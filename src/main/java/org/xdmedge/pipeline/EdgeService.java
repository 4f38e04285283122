package org.xdmedge.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.xdmedge.auth.Authenticator;
import org.xdmedge.auth.Credentials;
import org.xdmedge.auth.Principal;
import org.xdmedge.config.AccessType;
import org.xdmedge.consent.Consent;
import org.xdmedge.consent.ConsentCounter;
import org.xdmedge.consent.ConsentLedger;
import org.xdmedge.consent.ConsentPayloads;
import org.xdmedge.consent.ConsentRecord;
import org.xdmedge.consent.ConsentState;
import org.xdmedge.datastream.ConfigOverrides;
import org.xdmedge.datastream.Datastream;
import org.xdmedge.datastream.DatastreamRegistry;
import org.xdmedge.datastream.RequestConfig;
import org.xdmedge.identity.ClientState;
import org.xdmedge.identity.FpidSeeder;
import org.xdmedge.identity.IdentityCookie;
import org.xdmedge.identity.IdentityResolver;
import org.xdmedge.identity.ResolvedIdentity;
import org.xdmedge.identity.StateKeys;
import org.xdmedge.outlet.EventSink;
import org.xdmedge.outlet.SinkUnavailableException;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.personalization.Decider;
import org.xdmedge.personalization.DecisionRequest;
import org.xdmedge.protocol.EdgeAction;
import org.xdmedge.protocol.EdgeError;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem;
import org.xdmedge.protocol.EdgeRequest.EdgeEvent;
import org.xdmedge.protocol.EdgeRequest.IdentityItem;
import org.xdmedge.protocol.EdgeRequest;
import org.xdmedge.protocol.EdgeRequestParser;
import org.xdmedge.protocol.StreamFraming;
import org.xdmedge.quality.DataQuality;
import org.xdmedge.quality.EdgeAdditions;
import org.xdmedge.quality.Mapping;
import org.xdmedge.quality.Quarantine;
import org.xdmedge.quality.Violation;
import org.xdmedge.quality.Violations;
import org.xdmedge.ratelimit.RateLimiter;

/**
 * The core of the edge: datastream, body, overrides, consent payload, identity, events, consent
 * lookup (or recording), storage, answer. Plain Java in and out;
 * fatal answers are thrown (or completed exceptionally) as {@link EdgeProblem}.
 */
public final class EdgeService {
    static final String REMAINING_HEADER = "x-rate-limit-remaining";
    /** Event-scoped handle telling an SDK what became of each event of an interact call. */
    public static final String EVENT_RECEIPT = "xdm-edge:event";
    /** Event-scoped handle with the propositions of the activities an event's scopes and surfaces get. */
    public static final String DECISIONS = "personalization:decisions";
    /** Field errors a {@code invalidEvents: reject} answer lists at most. */
    static final int MAX_REPORTED_VIOLATIONS = 100;

    private final DatastreamRegistry datastreams;
    private final EventSink sink;
    private final String region;
    private final ConsentLedger consent;
    private final FpidSeeder fpids;
    private final ConsentCounter ignoredEvents;
    private final Authenticator authenticator;
    private final RateLimiter rateLimiter;
    private final Decider decider;
    private final DataQuality quality;

    public EdgeService(DatastreamRegistry datastreams, EventSink sink, String region, ConsentLedger consent,
                       FpidSeeder fpids, ConsentCounter ignoredEvents, Authenticator authenticator,
                       RateLimiter rateLimiter) {
        this(datastreams, sink, region, consent, fpids, ignoredEvents, authenticator, rateLimiter, Decider.NONE,
                DataQuality.NONE);
    }

    /**
     * {@code decider}: the activities interact answers with {@code personalization:decisions};
     * {@code quality}: the schemas and mapping rules of the datastreams that have them.
     */
    public EdgeService(DatastreamRegistry datastreams, EventSink sink, String region, ConsentLedger consent,
                       FpidSeeder fpids, ConsentCounter ignoredEvents, Authenticator authenticator,
                       RateLimiter rateLimiter, Decider decider, DataQuality quality) {
        this.decider = decider;
        this.quality = quality;
        this.datastreams = datastreams;
        this.sink = sink;
        this.region = region;
        this.consent = consent;
        this.fpids = fpids;
        this.ignoredEvents = ignoredEvents;
        this.authenticator = authenticator;
        this.rateLimiter = rateLimiter;
    }

    public CompletionStage<EdgeReply> handle(EdgeCall call) {
        try {
            String cookieDomain = datastreams.findByParam(call.datastreamParam()).map(Datastream::cookieDomain).orElse(null);
            return process(call).thenApply(reply -> StateCookies.attach(reply, cookieDomain));
        } catch (EdgeProblem problem) {
            return CompletableFuture.failedFuture(problem);
        }
    }

    /** Everything decided about one request before consent is known. */
    private record Plan(EdgeCall call, EdgeRequest request, Datastream datastream, RequestConfig config,
                        ResolvedIdentity identity, ClientState state, StreamFraming streaming,
                        ConsentRecord requestedConsent, List<StoredEvent> events, List<String> consentKeys,
                        List<Violations> violations) {
        /** The violations of event {@code i} (stored as a quarantine record), or null when it is valid or unchecked. */
        Violations violationsOf(int i) {
            return violations == null ? null : violations.get(i);
        }
    }

    /**
     * Who may call, before anything else: credentials (when any are sent) are verified and never
     * downgraded to an anonymous call; the datastream is looked up as the caller's organization sees
     * it; its access type is enforced; then the rate limits take their token.
     */
    private CompletionStage<EdgeReply> process(EdgeCall call) {
        Optional<Credentials> credentials = Credentials.from(call::header);
        if (credentials.isEmpty()) {
            return admitted(call, null);
        }
        return authenticator.authenticate(credentials.get(), call.requestId())
                .thenCompose(principal -> admitted(call, principal));
    }

    private CompletionStage<EdgeReply> admitted(EdgeCall call, Principal principal) {
        Datastream datastream = datastreams.resolveFor(call.datastreamParam(), principal == null ? null : principal.orgId());
        if (principal == null && datastream.accessType() == AccessType.AUTHENTICATED) {
            throw new EdgeProblem(EdgeError.UNAUTHORIZED, "This datastream accepts authenticated calls only: send "
                    + "Authorization: Bearer <token>, x-api-key and x-gw-ims-org-id.", Map.of(), List.of(), null,
                    Map.of("www-authenticate", "Bearer realm=\"xdm-edge\""));
        }
        RateLimiter.Decision limit = rateLimiter.acquire(datastream.orgId(), datastream.id());
        if (!limit.allowed()) {
            throw new EdgeProblem(EdgeError.RATE_LIMITED, "Too many requests for this " + limit.limit()
                    + ": retry after " + limit.retryAfterSeconds() + " s with the same requestId.",
                    Map.of("limit", limit.limit()), List.of(), limit.retryAfterSeconds(),
                    Map.of(REMAINING_HEADER, "0"));
        }
        CompletionStage<EdgeReply> reply = serve(call, datastream);
        return limit.remaining() < 0 ? reply : reply.thenApply(r -> withHeader(r, REMAINING_HEADER,
                Long.toString(limit.remaining())));
    }

    private static EdgeReply withHeader(EdgeReply reply, String name, String value) {
        Map<String, List<String>> headers = new LinkedHashMap<>(reply.headers());
        headers.put(name, List.of(value));
        return new EdgeReply(reply.status(), reply.body(), headers, reply.streaming());
    }

    private CompletionStage<EdgeReply> serve(EdgeCall call, Datastream datastream) {
        EdgeRequest request = EdgeRequestParser.parse(call.action(), call.body());
        EdgeAction action = call.action();
        StreamFraming streaming = action.interactive() ? StreamFraming.from(request.meta()) : null;
        RequestConfig config = ConfigOverrides.apply(datastream, request.meta());
        ConsentRecord requested = action == EdgeAction.V1_SET_CONSENT
                ? ConsentPayloads.decide(request.consent(), datastream.iabVendorId(), call.receivedAtMillis()) : null;
        ClientState state = new ClientState(call.cookieHeaders(), request.stateEntries());
        ResolvedIdentity identity;
        if (action == EdgeAction.V2_COLLECT) {
            IdentityResolver.checkFpids(request);
            identity = null;
        } else {
            String fpidCookie = datastream.fpidCookie() == null ? null
                    : ClientState.cookie(call.cookieHeaders(), datastream.fpidCookie()).orElse(null);
            identity = IdentityResolver.resolve(request, datastream.orgId(), state, call.receivedAtMillis(), fpids, fpidCookie);
        }

        List<StoredEvent> events = new ArrayList<>(request.events().size());
        List<String> consentKeys = new ArrayList<>(request.events().size());
        DataQuality.Rules rules = quality.rules(datastream.id());
        List<Violations> violations = rules == null ? null : new ArrayList<>(request.events().size());
        for (EdgeEvent event : request.events()) {
            events.add(toStored(call, datastream, config, event, identity, rules, violations));
            // A freshly minted ECID cannot have a consent record yet: nothing to look up.
            consentKeys.add(identity != null ? (identity.isNew() ? null : identity.ecid()) : consentEcid(datastream, event));
        }
        if (rules != null && rules.onInvalid() == DataQuality.OnInvalid.REJECT) {
            rejectInvalid(action, request.events(), violations); // before the null events of refused ones are read
        }
        Plan plan = new Plan(call, request, datastream, config, identity, state, streaming, requested, events, consentKeys,
                violations);

        CompletionStage<Map<String, ConsentRecord>> records;
        if (requested != null) {
            records = consent.record(datastream.orgId(), identity.ecid(), requested, call.requestId())
                    .thenApply(done -> Map.of(identity.ecid(), requested));
        } else {
            Set<String> keys = new LinkedHashSet<>();
            consentKeys.forEach(k -> { if (k != null) { keys.add(k); } });
            records = consent.lookup(datastream.orgId(), keys, call.requestId());
        }
        return records.thenCompose(known -> store(plan, known));
    }

    /** For server batches: the event's ECID, else the ECID its FPID seeds; null when neither exists. */
    private String consentEcid(Datastream datastream, EdgeEvent event) {
        IdentityItem ecid = event.first(IdentityResolver.ECID);
        if (ecid != null) {
            return ecid.id();
        }
        IdentityItem fpid = event.first(FpidSeeder.FPID);
        return fpid == null ? null : fpids.ecid(datastream.orgId(), fpid.id()).orElse(null);
    }

    /** The consent an ECID is under: recorded on the server &gt; the client's consent state &gt; the datastream default. */
    private static Consent consentOf(String ecid, Map<String, ConsentRecord> known, Consent fromClient, Datastream ds) {
        ConsentRecord record = ecid == null ? null : known.get(ecid);
        if (record != null) {
            return record.consent();
        }
        if (fromClient != null) {
            return fromClient;
        }
        return ds.pendingByDefault() ? Consent.PENDING : Consent.IN;
    }

    private CompletionStage<EdgeReply> store(Plan plan, Map<String, ConsentRecord> known) {
        Consent fromClient = plan.identity() == null ? null
                : ConsentState.fromClient(plan.state(), plan.datastream().orgId());
        List<StoredEvent> accepted = new ArrayList<>(plan.events().size());
        List<String> skipped = new ArrayList<>(plan.events().size());
        Map<Consent, Integer> ignored = null; // made only when an event is ignored (rare)
        for (int i = 0; i < plan.events().size(); i++) {
            Consent c = consentOf(plan.consentKeys().get(i), known, fromClient, plan.datastream());
            if (!c.collects()) {
                if (ignored == null) {
                    ignored = new EnumMap<>(Consent.class);
                }
                ignored.merge(c, 1, Integer::sum);
                skipped.add(c == Consent.OUT ? "consent-out" : "consent-pending");
            } else if (!plan.config().platformEnabled()) {
                skipped.add("platform-disabled");
            } else if (plan.violationsOf(i) != null) {
                accepted.add(plan.events().get(i)); // its quarantine record, in the same write as the valid ones
                skipped.add("invalid");
            } else {
                accepted.add(plan.events().get(i));
                skipped.add(null);
            }
        }
        if (ignored != null) {
            String actionName = plan.call().action().name().toLowerCase(Locale.ROOT);
            ignored.forEach((c, n) -> ignoredEvents.ignored(actionName, c, n));
        }
        Consent requestConsent = plan.identity() == null ? null
                : consentOf(plan.identity().ecid(), known, fromClient, plan.datastream());
        ConsentRecord record = plan.identity() == null ? null : known.get(plan.identity().ecid());
        // The answer is built here, on the caller's thread, so the writer thread only commits.
        EdgeReply reply = answer(plan, requestConsent, record, skipped);
        if (accepted.isEmpty()) {
            return CompletableFuture.completedFuture(reply);
        }
        return sink.write(accepted).handle((result, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                if (cause instanceof SinkUnavailableException unavailable) {
                    throw EdgeProblem.unavailable("The edge cannot store this request now: " + unavailable.getMessage()
                            + ". Retry later with the same requestId.", unavailable.retryAfterSeconds());
                }
                throw new EdgeProblem(EdgeError.UNEXPECTED, "The request could not be stored.");
            }
            return reply;
        });
    }

    private EdgeReply answer(Plan plan, Consent requestConsent, ConsentRecord record, List<String> skipped) {
        EdgeCall call = plan.call();
        switch (call.action()) {
            case V2_COLLECT:
                return call.silent() ? new EdgeReply(204, null) : new EdgeReply(202, body(call));
            case V1_COLLECT:
                return new EdgeReply(204, null);
            default:
                ObjectNode body = body(call);
                ArrayNode handles = body.putArray("handle");
                identityHandles(plan, handles);
                if (record != null) {
                    handle(handles, "consent:preferences").add(record.preferences());
                }
                stateHandle(plan, handles, requestConsent, record);
                if (call.action() == EdgeAction.V1_INTERACT || call.action() == EdgeAction.V2_INTERACT) {
                    receipts(plan, body, handles, skipped);
                    // No decisions for a visitor who opted out or whose consent is pending.
                    if (requestConsent == Consent.IN && decider.active(plan.datastream().id())) {
                        addDecisions(plan, handles);
                    }
                }
                boolean ignoring = requestConsent != Consent.IN && (call.action() == EdgeAction.V1_SET_CONSENT
                        || !plan.events().isEmpty());
                if (ignoring) {
                    consentWarning(body, requestConsent);
                }
                return new EdgeReply(200, body, Map.of(), plan.streaming());
        }
    }

    /** {@code identity:result} when the ECID was asked for, and the location hint. */
    private void identityHandles(Plan plan, ArrayNode handles) {
        if (plan.request().identityFetch().contains(IdentityResolver.ECID)) {
            ObjectNode id = handle(handles, "identity:result").addObject();
            id.put("id", plan.identity().ecid());
            id.putObject("namespace").put("code", IdentityResolver.ECID);
        }
        ObjectNode hint = handle(handles, "locationHint:result").addObject();
        hint.put("scope", "EdgeNetwork");
        hint.put("hint", region);
        hint.put("ttlSeconds", StateKeys.CLUSTER_MAX_AGE);
    }

    /** {@code state:store}: the identity item when one is issued, the cluster, and consent when decided. */
    private void stateHandle(Plan plan, ArrayNode handles, Consent requestConsent, ConsentRecord record) {
        Datastream datastream = plan.datastream();
        ResolvedIdentity identity = plan.identity();
        ArrayNode state = handle(handles, "state:store");
        if (identity.issueIdentityItem()) {
            ObjectNode item = state.addObject();
            item.put("key", StateKeys.name(datastream.orgId(), StateKeys.IDENTITY));
            item.put("value", IdentityCookie.encode(identity.ecid(), identity.createdAtMillis(), identity.isNew(),
                    region, plan.call().receivedAtMillis()));
            item.put("maxAge", StateKeys.IDENTITY_MAX_AGE);
            item.putObject("attrs").put("SameSite", "None");
        }
        ObjectNode cluster = state.addObject();
        cluster.put("key", StateKeys.name(datastream.orgId(), StateKeys.CLUSTER));
        cluster.put("value", region);
        cluster.put("maxAge", StateKeys.CLUSTER_MAX_AGE);
        // The Web SDK learns consent only from this state item; send it whenever consent is decided.
        if (record != null || requestConsent == Consent.OUT) {
            ConsentState.addItems(state, datastream.orgId(), requestConsent);
        }
    }

    /** One {@code xdm-edge:event} receipt per event, and a warning when any was quarantined. */
    private static void receipts(Plan plan, ObjectNode body, ArrayNode handles, List<String> skipped) {
        int invalid = 0;
        for (int i = 0; i < plan.events().size(); i++) {
            ObjectNode receipt = eventHandle(handles, EVENT_RECEIPT, i).addObject();
            receipt.put("eventId", Quarantine.eventIdOf(plan.events().get(i)));
            receipt.put("stored", skipped.get(i) == null);
            receipt.put("dataset", plan.config().dataset());
            if (skipped.get(i) != null) {
                receipt.put("reason", skipped.get(i));
            }
            if ("invalid".equals(skipped.get(i))) {
                invalid++;
                receipt.put("quarantine", DataQuality.QUARANTINE_DATASET);
                receipt.set("violations", plan.violationsOf(i).json()); // the same JSON as its quarantine record's
            }
        }
        if (invalid > 0) {
            ObjectNode warning = warnings(body).addObject();
            warning.put("type", EdgeError.VALIDATION_REPORT.typeUri());
            warning.put("status", EdgeError.VALIDATION_REPORT.status());
            warning.put("title", EdgeError.VALIDATION_REPORT.title());
            warning.put("detail", invalid + " of " + plan.events().size() + " events failed the datastream's "
                    + "schema or mapping: they are kept in the dataset 'quarantine', not in '"
                    + plan.config().dataset() + "'. The xdm-edge:event handles name each violation.");
        }
    }

    private static void consentWarning(ObjectNode body, Consent requestConsent) {
        ObjectNode warning = warnings(body).addObject();
        warning.put("type", EdgeError.CONSENT_IGNORED.typeUri());
        warning.put("status", EdgeError.CONSENT_IGNORED.status());
        warning.put("title", EdgeError.CONSENT_IGNORED.title());
        warning.put("detail", requestConsent == Consent.OUT
                ? "The visitor has opted out of collection: nothing of this request is stored or forwarded."
                : "No consent has been recorded for this visitor and the datastream waits for it: nothing was stored.");
        warning.putObject("report").put("cause", requestConsent.general());
    }

    /** One {@code personalization:decisions} handle per event that asks for scopes or surfaces and gets propositions. */
    private void addDecisions(Plan plan, ArrayNode handles) {
        EdgeCall call = plan.call();
        ObjectNode requestQuery = plan.request().query();
        for (EdgeEvent event : plan.request().events()) {
            JsonNode query = event.query() != null ? event.query().get("personalization") : null;
            if (query == null && requestQuery != null) {
                query = requestQuery.get("personalization");
            }
            if (query == null || !query.isObject()) {
                continue;
            }
            ArrayNode propositions = decider.decide(new DecisionRequest(plan.datastream().id(), plan.identity().ecid(),
                    query, event::xdmValues, event::dataValues, call.header("user-agent"), call.header("referer"),
                    Consent.IN.general(), call.receivedAtMillis()));
            if (propositions != null && !propositions.isEmpty()) {
                ObjectNode handle = handles.addObject();
                handle.set("payload", propositions);
                handle.put("type", DECISIONS);
                handle.put("eventIndex", event.index());
            }
        }
    }

    private static ArrayNode warnings(ObjectNode body) {
        return body.get("warnings") instanceof ArrayNode existing ? existing : body.putArray("warnings");
    }

    /** {@code invalidEvents: reject}: the request is refused, naming every violation of every event. */
    private static void rejectInvalid(EdgeAction action, List<EdgeEvent> events, List<Violations> violations) {
        List<EdgeProblem.FieldError> errors = new ArrayList<>();
        List<Integer> indexes = new ArrayList<>();
        for (int i = 0; i < violations.size(); i++) {
            Violations v = violations.get(i);
            if (v == null) {
                continue;
            }
            indexes.add(events.get(i).index());
            for (Violation one : v.list()) {
                if (errors.size() < MAX_REPORTED_VIOLATIONS) {
                    errors.add(new EdgeProblem.FieldError(eventPath(action, events.get(i)) + "." + one.path(),
                            one.keyword() + ": " + one.message()));
                }
            }
        }
        if (indexes.isEmpty()) {
            return;
        }
        throw new EdgeProblem(EdgeError.INVALID_FIELD, (indexes.size() == 1 ? "Event #" + indexes.get(0) + " does"
                : "Events #" + indexes.stream().map(String::valueOf).collect(Collectors.joining(", #"))
                + " do") + " not match the datastream's schema or mapping; nothing of this request was stored.",
                Map.of("eventIndexes", indexes), errors, null);
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

    private static ArrayNode eventHandle(ArrayNode handles, String type, int eventIndex) {
        ObjectNode handle = handles.addObject();
        ArrayNode payload = handle.putArray("payload");
        handle.put("type", type);
        handle.put("eventIndex", eventIndex);
        return payload;
    }

    /**
     * Fills in what the dataset needs ({@code _id}, {@code timestamp}, the ECID) and picks the primary
     * identity. With {@code rules} the event is mapped and validated on its whole tree: a valid one is
     * stored as the tree is written, an invalid one becomes its quarantine record and its violations
     * are added to {@code violations} (null added for a valid event).
     */
    private static StoredEvent toStored(EdgeCall call, Datastream datastream, RequestConfig config, EdgeEvent event,
                                        ResolvedIdentity identity, DataQuality.Rules rules,
                                        List<Violations> violations) {
        String eventId = event.eventId();
        String addId = null;
        // Made up for this request alone: no retry can send it again, so no store claims it for dedup.
        boolean minted = eventId == null && call.callerRequestId() == null;
        if (eventId == null) {
            // A retry of the same request (same caller requestId) yields the same ids, so it is not stored twice.
            eventId = minted ? EventIds.timeOrdered(call.receivedAtMillis())
                    : UUID.nameUUIDFromBytes((datastream.id() + "\n" + call.callerRequestId() + "\n" + event.index())
                    .getBytes(StandardCharsets.UTF_8)).toString();
            addId = eventId;
        }
        String addTimestamp = event.timestamp() == null ? EventIds.isoTimestamp(call.receivedAtMillis()) : null;
        IdentityItem primary = primaryIdentity(call.action(), event, identity);
        String addEcid = identity != null && event.first(IdentityResolver.ECID) == null ? identity.ecid() : null;
        String primaryNs = primary != null ? primary.namespace() : IdentityResolver.ECID;
        String primaryId = primary != null ? primary.id() : identity.ecid();
        byte[] json;
        if (rules == null) {
            json = StoredEventBytes.of(event, addId, addTimestamp, addEcid, primary == null);
        } else {
            // Mapping changes the tree: keep the event as sent for its quarantine record (from the raw bytes when there are).
            JsonNode asSent = event.rawXdm() == null ? event.xdm().deepCopy() : null;
            ObjectNode xdm = event.xdm();
            Mapping.Result mapped = rules.map(xdm, rules.readsData() ? event.data() : null);
            // Nothing mapped: the tree still says what the client's bytes say, so those can be stored with our members.
            byte[] spliced = mapped.wrote() ? null : StoredEventBytes.spliced(event, addId, addTimestamp, addEcid, primary == null);
            EdgeAdditions additions = new EdgeAdditions(addId, addTimestamp, addEcid, primary == null);
            List<Violation> found = rules.validate(xdm, mapped, additions);
            Violations invalid = found.isEmpty() ? null : new Violations(found);
            violations.add(invalid);
            if (invalid != null && rules.onInvalid() == DataQuality.OnInvalid.REJECT) {
                return null; // the request is refused before anything is stored: no record to build
            }
            if (invalid != null) {
                return Quarantine.record(call.requestId(), datastream.id(), config.dataset(), call.receivedAtMillis(),
                        eventId, primaryNs, primaryId, minted, asSent != null ? asSent : event.rawXdm().tree(),
                        event.data(), additions, invalid);
            }
            json = spliced != null ? spliced : StoredEventBytes.written(xdm, event);
        }
        return new StoredEvent(call.requestId(), datastream.id(), config.dataset(), call.receivedAtMillis(),
                eventId, primaryNs, primaryId, json, minted);
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
                    Map.of("eventIndex", event.index()),
                    List.of(new EdgeProblem.FieldError(eventPath(action, event) + ".xdm.identityMap",
                            "no primary identity")), null);
        }
        return primary;
    }

    private static String eventPath(EdgeAction action, EdgeEvent event) {
        return action == EdgeAction.V2_INTERACT ? "event" : "events[" + event.index() + "]";
    }
}
