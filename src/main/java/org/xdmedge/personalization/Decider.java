package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.node.ArrayNode;

/** What the pipeline asks of personalization on interact. */
public interface Decider {
    /** No activities anywhere. */
    Decider NONE = new Decider() {
        @Override
        public boolean active(String datastreamId) {
            return false;
        }

        @Override
        public ArrayNode decide(DecisionRequest request) {
            return null;
        }
    };

    /** True when the datastream has activities: only then is a request's personalization query read. */
    boolean active(String datastreamId);

    /**
     * The propositions of a {@code personalization:decisions} payload for one event, or null when
     * none applies. The nodes returned may be shared between answers: they must not be changed.
     */
    ArrayNode decide(DecisionRequest request);
}
