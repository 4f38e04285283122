package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Supplier;

/**
 * What one interact event asks for, in plain values. {@code query} is the event's (else the
 * request's) {@code query.personalization}; {@code xdm} and {@code data} are read only when an
 * audience condition needs them, so events of datastreams without activities cost nothing.
 *
 * @param consent the visitor's general consent: in, out or pending
 */
public record DecisionRequest(String datastreamId, String ecid, JsonNode query, Supplier<JsonNode> xdm,
                              Supplier<JsonNode> data, String userAgent, String referer, String consent,
                              long nowMillis) {}
