package org.xdmedge.privacy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.xdmedge.identity.IdentityResolver;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventReader;

/**
 * Finds a person's stored events: every event of the organization whose {@code xdm.identityMap}
 * (or primary identity) holds the namespace and id, then every event of the organization carrying
 * one of the ECIDs those events carry (one hop: an ECID found only in the second set is not
 * followed). Namespaces and ids are compared exactly, case included, as the edge compares them
 * ({@code ECID}, {@code FPID}, {@code Email_LC_SHA256} are distinct spellings). An event's
 * organization is its datastream's; events of datastreams no longer configured match no one.
 * Events are parsed only when a byte search finds the id (or an ECID) in them.
 */
public final class PersonEvents {
    private PersonEvents() {}

    /**
     * The events found (ascending sequence numbers), the ECIDs that linked them, and how many
     * events the catch-up read a second time.
     */
    public record Found(long[] seqs, Set<String> ecids, long readAgain) {}

    /** Told each event found: in ascending order within the main reading, then within the catch-up. */
    public interface Match {
        void accept(long seq, StoredEvent event, boolean catchUp) throws IOException;
    }

    /** More ECIDs than this are looked for by the name {@code ECID} first, not by each value. */
    private static final int ECID_NEEDLES = 16;

    public static Found find(Path dataDir, Map<String, String> orgOfDatastream, String orgId, String namespace,
                             String id) throws IOException {
        return find(dataDir, orgOfDatastream, orgId, namespace, id, null);
    }

    /**
     * One reading of the log finds the events holding the identity and, as it learns their ECIDs,
     * the events after that carry one of them. Only the events before the last event that taught a
     * new ECID are read again (the catch-up), for the ones carrying it: none when the person's events
     * carry only the ECID asked for, or when the identity first shows with every ECID it ever has.
     */
    public static Found find(Path dataDir, Map<String, String> orgOfDatastream, String orgId, String namespace,
                             String id, Match each) throws IOException {
        if (!EventReader.exists(dataDir)) {
            return new Found(new long[0], Set.of(), 0);
        }
        Scan scan = new Scan(orgOfDatastream, orgId, namespace, id, each);
        EventReader.forEachSeq(dataDir, scan::first);
        if (scan.catchUpBefore > 0) {
            EventReader.forEachAfter(dataDir, 0, scan::catchUp);
        }
        return new Found(scan.seqs.stream().mapToLong(Long::longValue).toArray(), scan.ecids, scan.readAgain);
    }

    /** What one job's reading has found so far. */
    private static final class Scan {
        final Map<String, String> orgOfDatastream;
        final String orgId;
        final String namespace;
        final String id;
        final Match each;
        final byte[] needle;
        final TreeSet<Long> seqs = new TreeSet<>();
        final Set<String> ecids = new TreeSet<>();
        /** The ECIDs' bytes to look for before parsing an event; null when one is not plain or there are many. */
        byte[][] ecidNeedles = new byte[0][];
        /** The events below this may carry an ECID learned after the main reading passed them. */
        long catchUpBefore;
        long readAgain;

        Scan(Map<String, String> orgOfDatastream, String orgId, String namespace, String id, Match each) {
            this.orgOfDatastream = orgOfDatastream;
            this.orgId = orgId;
            this.namespace = namespace;
            this.id = id;
            this.each = each;
            this.needle = plain(id) ? id.getBytes(StandardCharsets.UTF_8) : null;
            if (IdentityResolver.ECID.equals(namespace)) {
                learn(id);
            }
        }

        void first(long seq, StoredEvent e) throws IOException {
            if (!orgId.equals(orgOfDatastream.get(e.datastreamId()))) {
                return;
            }
            if (needle == null || contains(e.eventJson(), needle) || id.equals(e.primaryId())) {
                JsonNode map = identityMap(e);
                if (holds(map, namespace, id) || (namespace.equals(e.primaryNamespace()) && id.equals(e.primaryId()))) {
                    boolean learned = false;
                    for (JsonNode item : map.path(IdentityResolver.ECID)) {
                        if (item.path("id").isTextual()) {
                            learned |= learn(item.path("id").asText());
                        }
                    }
                    if (IdentityResolver.ECID.equals(e.primaryNamespace()) && e.primaryId() != null) {
                        learned |= learn(e.primaryId());
                    }
                    if (learned) {
                        catchUpBefore = seq;
                    }
                    found(seq, e, false);
                    return;
                }
            }
            if (linked(e)) {
                found(seq, e, false);
            }
        }

        boolean catchUp(long seq, StoredEvent e) throws IOException {
            if (seq >= catchUpBefore) {
                return false;
            }
            readAgain++;
            if (!seqs.contains(seq) && orgId.equals(orgOfDatastream.get(e.datastreamId())) && linked(e)) {
                found(seq, e, true);
            }
            return true;
        }

        private void found(long seq, StoredEvent e, boolean catchUp) throws IOException {
            seqs.add(seq);
            if (each != null) {
                each.accept(seq, e, catchUp);
            }
        }

        /** Adds an ECID; true when it is new. */
        private boolean learn(String ecid) {
            if (!ecids.add(ecid)) {
                return false;
            }
            if (ecidNeedles != null && plain(ecid) && ecids.size() <= ECID_NEEDLES) {
                byte[][] more = Arrays.copyOf(ecidNeedles, ecidNeedles.length + 1);
                more[ecidNeedles.length] = ecid.getBytes(StandardCharsets.UTF_8);
                ecidNeedles = more;
            } else {
                ecidNeedles = null;
            }
            return true;
        }

        /** Whether the event carries one of the ECIDs known so far. */
        private boolean linked(StoredEvent e) throws IOException {
            if (ecids.isEmpty()) {
                return false;
            }
            if (IdentityResolver.ECID.equals(e.primaryNamespace()) && ecids.contains(e.primaryId())) {
                return true;
            }
            if (!mayHold(e.eventJson())) {
                return false;
            }
            for (JsonNode item : identityMap(e).path(IdentityResolver.ECID)) {
                if (ecids.contains(item.path("id").asText(null))) {
                    return true;
                }
            }
            return false;
        }

        /** False when a byte search rules out every known ECID, so the event need not be parsed. */
        private boolean mayHold(byte[] json) {
            if (ecidNeedles == null) {
                return contains(json, ECID_NAME);
            }
            for (byte[] n : ecidNeedles) {
                if (contains(json, n)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final byte[] ECID_NAME = IdentityResolver.ECID.getBytes(StandardCharsets.US_ASCII);

    private static JsonNode identityMap(StoredEvent e) throws IOException {
        return EdgeJson.MAPPER.readTree(e.eventJson()).path("xdm").path("identityMap");
    }

    private static boolean holds(JsonNode map, String namespace, String id) {
        for (JsonNode item : map.path(namespace)) {
            if (id.equals(item.path("id").asText(null))) {
                return true;
            }
        }
        return false;
    }

    /** True when the id is written unescaped in JSON, so a byte search can rule events out. */
    private static boolean plain(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\' || c > 0x7e) {
                return false;
            }
        }
        return !id.isEmpty();
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0, last = haystack.length - needle.length; i <= last; i++) {
            if (haystack[i] != needle[0]) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
