package org.xdmedge.consent;

/** A visitor's collection consent as the edge enforces it. */
public enum Consent {
    /** Collect. */
    IN,
    /** Collect nothing, forward nothing. */
    OUT,
    /** Nothing recorded yet and the datastream waits for an explicit choice: collect nothing. */
    PENDING;

    public boolean collects() {
        return this == IN;
    }

    /** The value of the {@code general} key in the {@code kndctr_<org>_consent} state item. */
    public String general() {
        return this == IN ? "in" : this == OUT ? "out" : "pending";
    }
}
