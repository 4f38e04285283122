package org.xdmedge.outlet;

/** What a durable write did: events newly stored, and retries of already stored event ids skipped. */
public record WriteResult(int stored, int duplicates) {}
