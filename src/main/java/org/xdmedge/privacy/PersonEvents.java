package org.xdmedge.privacy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 */
public final class PersonEvents {
    private PersonEvents() {}

    /** The events found (ascending sequence numbers) and the ECIDs that linked them. */
    public record Found(long[] seqs, Set<String> ecids) {}

    public static Found find(Path dataDir, Map<String, String> orgOfDatastream, String orgId, String namespace,
                             String id) throws IOException {
        if (!EventReader.exists(dataDir)) {
            return new Found(new long[0], Set.of());
        }
        TreeSet<Long> seqs = new TreeSet<>();
        Set<String> ecids = new TreeSet<>();
        if (IdentityResolver.ECID.equals(namespace)) {
            ecids.add(id);
        }
        byte[] needle = plain(id) ? id.getBytes(StandardCharsets.UTF_8) : null;
        EventReader.forEachSeq(dataDir, (seq, e) -> {
            if (!orgId.equals(orgOfDatastream.get(e.datastreamId()))) {
                return;
            }
            if (needle != null && !contains(e.eventJson(), needle) && !id.equals(e.primaryId())) {
                return; // the id is in no field of this event
            }
            JsonNode map = identityMap(e);
            if (holds(map, namespace, id) || (namespace.equals(e.primaryNamespace()) && id.equals(e.primaryId()))) {
                seqs.add(seq);
                for (JsonNode item : map.path(IdentityResolver.ECID)) {
                    if (item.path("id").isTextual()) {
                        ecids.add(item.path("id").asText());
                    }
                }
                if (IdentityResolver.ECID.equals(e.primaryNamespace()) && e.primaryId() != null) {
                    ecids.add(e.primaryId());
                }
            }
        });
        if (!ecids.isEmpty()) {
            byte[] ecidName = IdentityResolver.ECID.getBytes(StandardCharsets.US_ASCII);
            EventReader.forEachSeq(dataDir, (seq, e) -> {
                if (seqs.contains(seq) || !orgId.equals(orgOfDatastream.get(e.datastreamId()))) {
                    return;
                }
                if (IdentityResolver.ECID.equals(e.primaryNamespace()) && ecids.contains(e.primaryId())) {
                    seqs.add(seq);
                    return;
                }
                if (!contains(e.eventJson(), ecidName)) {
                    return;
                }
                for (JsonNode item : identityMap(e).path(IdentityResolver.ECID)) {
                    if (ecids.contains(item.path("id").asText(null))) {
                        seqs.add(seq);
                        return;
                    }
                }
            });
        }
        return new Found(seqs.stream().mapToLong(Long::longValue).toArray(), ecids);
    }

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
