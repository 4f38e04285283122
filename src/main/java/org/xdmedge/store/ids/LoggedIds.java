package org.xdmedge.store.ids;

import java.io.IOException;

/**
 * The ids the event log holds after a sequence number, in log order: what opening the index adds
 * when its tables cover less of the log than the log holds. The log supplies it, so the index
 * reads no log format of its own.
 */
@FunctionalInterface
public interface LoggedIds {
    /** Calls {@code each} for every event after {@code afterSeq}, in order; returns the log's last sequence number. */
    long scan(long afterSeq, Visitor each) throws IOException;

    /** Receives the ids of each stored event, without the rest of the event. */
    @FunctionalInterface
    interface Visitor {
        void accept(long seq, String datastreamId, String eventId) throws IOException;
    }
}
