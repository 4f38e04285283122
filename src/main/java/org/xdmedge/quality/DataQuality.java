package org.xdmedge.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.xdmedge.StartupException;
import org.xdmedge.config.EdgeConfig;

/**
 * The data-quality rules of every datastream that has any ({@code schema}, {@code mapping}),
 * compiled once at start-up. The pipeline asks {@link #rules} per request; a datastream without
 * rules gets null and keeps the edge's usual path (the client's bytes stored as sent).
 */
public final class DataQuality {
    /** The dataset invalid events are kept in, with their reasons. */
    public static final String QUARANTINE_DATASET = "quarantine";
    /** The dataset of replay marks: one per quarantined event that replay stored in its dataset. */
    public static final String REPLAYED_DATASET = "quarantine-replayed";

    /** What happens to a request with an invalid event. */
    public enum OnInvalid { QUARANTINE, REJECT }

    /** Counts what the checks decide (metrics); called on the request's thread, so it must not block. */
    public interface Observer {
        void checked(String datastreamId, boolean valid);

        void violated(String datastreamId, String path);
    }

    /** The outcome of checking one event: the JSON to store when valid, else the violations. */
    public record Outcome(byte[] storedJson, List<Violation> violations) {
        public boolean valid() {
            return violations.isEmpty();
        }
    }

    /** One datastream's rules. */
    public final class Rules {
        private final String datastreamId;
        private final Mapping mapping;
        private final SchemaCheck schema;
        private final OnInvalid onInvalid;

        Rules(String datastreamId, Mapping mapping, SchemaCheck schema, OnInvalid onInvalid) {
            this.datastreamId = datastreamId;
            this.mapping = mapping;
            this.schema = schema;
            this.onInvalid = onInvalid;
        }

        public OnInvalid onInvalid() {
            return onInvalid;
        }

        /** Whether a mapping rule reads the event's {@code data}: when none does, {@link #map} may be given null for it. */
        public boolean readsData() {
            return mapping.readsData();
        }

        /** Maps {@code data}/{@code xdm} into {@code xdm}, changing it. */
        public Mapping.Result map(ObjectNode xdm, JsonNode data) {
            return mapping.apply(xdm, data);
        }

        /**
         * Adds what the edge adds to the mapped {@code xdm}, then validates it: every violation,
         * the mapping's first; empty when the event is valid.
         */
        public List<Violation> validate(ObjectNode xdm, Mapping.Result mapped, EdgeAdditions additions) {
            List<Violation> violations = mapped.violations();
            additions.applyTo(xdm);
            if (schema != null) {
                List<Violation> invalid = schema.validate(xdm);
                if (!invalid.isEmpty()) {
                    violations = violations.isEmpty() ? invalid : concat(violations, invalid);
                }
            }
            Observer o = observer;
            if (o != null) {
                o.checked(datastreamId, violations.isEmpty());
                for (Violation v : violations) {
                    o.violated(datastreamId, v.path());
                }
            }
            return violations;
        }

        /**
         * {@link #map} then {@link #validate}: the stored JSON {@code {"xdm":...,"data":...}} when
         * valid, else every violation of the mapping and the schema.
         */
        public Outcome check(ObjectNode xdm, JsonNode data, EdgeAdditions additions) {
            List<Violation> violations = validate(xdm, map(xdm, data), additions);
            if (!violations.isEmpty()) {
                return new Outcome(null, violations);
            }
            return new Outcome(EdgeAdditions.storedJson(xdm, data), List.of());
        }
    }

    public static final DataQuality NONE = new DataQuality();

    private final Map<String, Rules> byDatastream = new HashMap<>();
    private volatile Observer observer;

    private DataQuality() {}

    /**
     * Compiles the rules of every datastream of {@code config} (each schema file once). A schema
     * file that cannot be read or compiled stops start-up with a message naming it and the
     * datastream.
     */
    public static DataQuality compile(EdgeConfig config) throws StartupException {
        DataQuality quality = new DataQuality();
        Map<String, SchemaCheck> schemas = new HashMap<>();
        for (int i = 0; i < config.datastreams().size(); i++) {
            EdgeConfig.DatastreamConfig ds = config.datastreams().get(i);
            if (ds.schema() == null && ds.mapping().isEmpty()) {
                continue;
            }
            SchemaCheck schema = null;
            if (ds.schema() != null) {
                schema = schemas.get(ds.schema());
                if (schema == null) {
                    try {
                        schema = SchemaCheck.compile(Path.of(ds.schema()));
                    } catch (IllegalArgumentException e) {
                        throw new StartupException("schema file " + ds.schema() + " of datastream '" + ds.id() + "' "
                                + e.getMessage() + "; fix the file or datastreams[" + i + "].schema", StartupException.USAGE, e);
                    }
                    schemas.put(ds.schema(), schema);
                }
            }
            List<String> problems = new ArrayList<>();
            Mapping mapping = Mapping.compile(ds.mapping(), "datastreams[" + i + "].mapping",
                    (path, message) -> problems.add("'" + path + "' " + message));
            if (!problems.isEmpty()) { // ConfigLoader reports these first; reached only with a config made in code
                throw new StartupException(String.join("; ", problems), StartupException.USAGE, null);
            }
            OnInvalid onInvalid = "reject".equals(ds.invalidEvents()) ? OnInvalid.REJECT : OnInvalid.QUARANTINE;
            quality.byDatastream.put(ds.id(), quality.new Rules(ds.id(), mapping, schema, onInvalid));
        }
        return quality;
    }

    /** The rules of {@code datastreamId}, or null when it has none. */
    public Rules rules(String datastreamId) {
        return byDatastream.isEmpty() ? null : byDatastream.get(datastreamId);
    }

    public void observeWith(Observer newObserver) {
        this.observer = newObserver;
    }

    private static List<Violation> concat(List<Violation> a, List<Violation> b) {
        List<Violation> all = new ArrayList<>(a.size() + b.size());
        all.addAll(a);
        all.addAll(b);
        return all;
    }
}
