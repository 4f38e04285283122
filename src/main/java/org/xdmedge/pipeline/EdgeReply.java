package org.xdmedge.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A successful answer; {@code body} is null for 204. Fatal answers are thrown as EdgeProblem. */
public record EdgeReply(int status, ObjectNode body) {}
