package org.xdmedge.outlet;

/** The sink cannot take this write now (queue full, store down); the client should retry later. */
public class SinkUnavailableException extends RuntimeException {
    private final int retryAfterSeconds;

    public SinkUnavailableException(String message, int retryAfterSeconds) {
        super(message, null, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public SinkUnavailableException(String message, int retryAfterSeconds, Throwable cause) {
        super(message, cause, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
