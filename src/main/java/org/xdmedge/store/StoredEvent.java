package org.xdmedge.store;

/**
 * One accepted event as every outlet receives it. {@code eventJson} is the UTF-8 JSON object
 * {@code {"xdm":...,"data":...}} after the pipeline filled in {@code _id} and {@code timestamp}.
 */
public record StoredEvent(String requestId, String datastreamId, String dataset, long receivedAtMillis,
                          String eventId, String primaryNamespace, String primaryId, byte[] eventJson) {}
