package org.xdmedge.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Who may call a datastream (spec §6). */
public enum AccessType {
    /** Anonymous browser and app calls, and authenticated server calls. */
    @JsonProperty("mixed") MIXED,
    /** Only calls with a valid token of the datastream's organization. */
    @JsonProperty("authenticated") AUTHENTICATED
}
