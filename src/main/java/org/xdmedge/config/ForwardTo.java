package org.xdmedge.config;

import java.util.List;

/** {@code datastreams[].forwardTo[]}: a destination, and the event types sent there (empty: all). */
public record ForwardTo(String destination, List<String> eventTypes) {
    public ForwardTo {
        eventTypes = eventTypes == null ? List.of() : List.copyOf(eventTypes);
    }
}
