package org.xdmedge.forwarding;

import java.util.Optional;
import org.xdmedge.consent.Consent;
import org.xdmedge.consent.ConsentRecord;
import org.xdmedge.state.IdentityStateStore;

/** Whether a visitor's events may leave the edge now. Blocking: called on a destination's thread. */
@FunctionalInterface
public interface ConsentGate {
    ConsentGate ALL = (orgId, ecid) -> true;

    /** False when the consent recorded for {@code ecid} (null: none known) is out or pending. */
    boolean forwards(String orgId, String ecid);

    /**
     * The consent stored per ECID (what {@code set-consent} records). An event was stored only under
     * consent to collect, so without a record it goes; a later opt-out or a pending choice stops it.
     */
    static ConsentGate of(IdentityStateStore store) {
        return (orgId, ecid) -> {
            if (ecid == null || orgId == null) {
                return true;
            }
            Optional<ConsentRecord> record = store.get(orgId, ecid, ConsentRecord.STATE_KEY).flatMap(ConsentRecord::fromJson);
            return record.isEmpty() || record.get().consent() == Consent.IN;
        };
    }
}
