package org.xdmedge.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.util.Map;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.EdgeProblem;

/** Renders an {@link EdgeProblem} as the RFC 7807 document of spec §5. */
final class Problems {
    static final String PROBLEM_JSON = "application/problem+json;charset=utf-8";

    private Problems() {}

    static ObjectNode document(EdgeProblem problem, String requestId) {
        ObjectNode doc = EdgeJson.MAPPER.createObjectNode();
        doc.put("type", problem.error().typeUri());
        doc.put("status", problem.error().status());
        doc.put("title", problem.error().title());
        doc.put("detail", problem.detail());
        ObjectNode report = doc.putObject("report");
        report.put("requestId", requestId);
        for (Map.Entry<String, Object> e : problem.report().entrySet()) {
            report.set(e.getKey(), EdgeJson.MAPPER.valueToTree(e.getValue()));
        }
        if (!problem.fieldErrors().isEmpty()) {
            ArrayNode errors = report.putArray("errors");
            for (EdgeProblem.FieldError fe : problem.fieldErrors()) {
                errors.addObject().put("path", fe.path()).put("message", fe.message());
            }
        }
        return doc;
    }

    static void send(HttpServerResponse response, EdgeProblem problem, String requestId) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(problem.error().status());
        response.putHeader("content-type", PROBLEM_JSON);
        problem.headers().forEach(response::putHeader);
        if (problem.retryAfterSeconds() != null) {
            response.putHeader("retry-after", Integer.toString(problem.retryAfterSeconds()));
        }
        try {
            response.end(Buffer.buffer(EdgeJson.MAPPER.writeValueAsBytes(document(problem, requestId))));
        } catch (IOException e) {
            response.end();
        }
    }
}
