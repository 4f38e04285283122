package org.xdmedge.consent;

/** Told how many events were acknowledged but not stored because consent was not {@code in}. */
@FunctionalInterface
public interface ConsentCounter {
    ConsentCounter NONE = (action, consent, events) -> { };

    void ignored(String action, Consent consent, int events);
}
