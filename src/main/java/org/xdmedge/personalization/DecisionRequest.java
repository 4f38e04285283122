package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Function;
import org.xdmedge.protocol.FieldPaths;

/**
 * What one interact event asks for, in plain values. {@code query} is the event's (else the
 * request's) {@code query.personalization}; {@code xdm} and {@code data} give the values at
 * compiled paths of the event's xdm and data (null where absent); they are read only when an
 * audience condition needs them, and then only those values.
 *
 * @param consent the visitor's general consent: in, out or pending
 */
public record DecisionRequest(String datastreamId, String ecid, JsonNode query, Function<FieldPaths, JsonNode[]> xdm,
                              Function<FieldPaths, JsonNode[]> data, String userAgent, String referer, String consent,
                              long nowMillis) {}
