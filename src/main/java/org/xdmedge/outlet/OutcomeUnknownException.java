package org.xdmedge.outlet;

/**
 * The outlet could not learn whether a write became durable (a Kafka commit timed out). The client
 * is told to retry; the event ids stay claimed until the outcome can no longer change, so that the
 * retry neither loses nor duplicates them.
 */
public class OutcomeUnknownException extends SinkUnavailableException {
    public OutcomeUnknownException(String message, int retryAfterSeconds, Throwable cause) {
        super(message, retryAfterSeconds, cause);
    }
}
