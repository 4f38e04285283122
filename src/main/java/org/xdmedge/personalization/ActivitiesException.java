package org.xdmedge.personalization;

/** An activities file that cannot be read or does not validate; the message names key and line. */
public final class ActivitiesException extends Exception {
    public ActivitiesException(String message) {
        super(message);
    }

    public ActivitiesException(String message, Throwable cause) {
        super(message, cause);
    }
}
