package org.xdmedge.datastream;

/** A datastream as the pipeline sees it: resolved, validated, immutable. */
public record Datastream(String id, String orgId, boolean enabled, String dataset) {}
