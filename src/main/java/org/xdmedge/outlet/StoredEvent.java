package org.xdmedge.outlet;

/**
 * One accepted event as every outlet receives it. {@code eventJson} is the UTF-8 JSON object
 * {@code {"xdm":...,"data":...}} after the pipeline filled in {@code _id} and {@code timestamp}.
 *
 * <p>{@code mintedId}: the edge made {@code eventId} up at random for this one request (the event
 * came without {@code _id} and the request without a caller request id). No retry can carry such an
 * id, so the embedded store claims it in no id index: that would only cost a lookup and a slot per
 * event. (Kafka datasets still claim it in their ledger, where skipping it is not faster.) Events
 * read back from a store have it false.
 */
public record StoredEvent(String requestId, String datastreamId, String dataset, long receivedAtMillis,
                          String eventId, String primaryNamespace, String primaryId, byte[] eventJson,
                          boolean mintedId) {
    /** An event whose id may come again (the client's own, or derived from its request id). */
    public StoredEvent(String requestId, String datastreamId, String dataset, long receivedAtMillis, String eventId,
                       String primaryNamespace, String primaryId, byte[] eventJson) {
        this(requestId, datastreamId, dataset, receivedAtMillis, eventId, primaryNamespace, primaryId, eventJson, false);
    }
}
