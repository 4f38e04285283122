package org.xdmedge.protocol;

import java.util.List;
import java.util.Map;

/**
 * A fatal answer to one request: an RFC 7807 problem with an Edge error code. Thrown by parsing and
 * pipeline code, rendered by the http room. {@code report} holds extra members of the problem's
 * {@code report} object (the request id is added when rendering).
 */
public final class EdgeProblem extends RuntimeException {
    private final EdgeError error;
    private final Map<String, Object> report;
    private final List<FieldError> fieldErrors;
    private final Integer retryAfterSeconds;
    private final Map<String, String> headers;

    public EdgeProblem(EdgeError error, String detail) {
        this(error, detail, Map.of(), List.of(), null);
    }

    public EdgeProblem(EdgeError error, String detail, Map<String, Object> report, List<FieldError> fieldErrors,
                       Integer retryAfterSeconds) {
        this(error, detail, report, fieldErrors, retryAfterSeconds, Map.of());
    }

    /** {@code headers}: extra response headers by lower-case name (for example {@code x-rate-limit-remaining}). */
    public EdgeProblem(EdgeError error, String detail, Map<String, Object> report, List<FieldError> fieldErrors,
                       Integer retryAfterSeconds, Map<String, String> headers) {
        super(detail, null, false, false);
        this.error = error;
        this.report = Map.copyOf(report);
        this.fieldErrors = List.copyOf(fieldErrors);
        this.retryAfterSeconds = retryAfterSeconds;
        this.headers = Map.copyOf(headers);
    }

    public static EdgeProblem field(EdgeError error, String path, String message) {
        return new EdgeProblem(error, message + " (" + path + ")", Map.of(), List.of(new FieldError(path, message)), null);
    }

    public static EdgeProblem unavailable(String detail, int retryAfterSeconds) {
        return new EdgeProblem(EdgeError.SERVICE_UNAVAILABLE, detail, Map.of(), List.of(), retryAfterSeconds);
    }

    public EdgeError error() { return error; }

    public String detail() { return getMessage(); }

    public Map<String, Object> report() { return report; }

    public List<FieldError> fieldErrors() { return fieldErrors; }

    public Integer retryAfterSeconds() { return retryAfterSeconds; }

    public Map<String, String> headers() { return headers; }

    /** One problem with one field of the body; {@code path} is like {@code events[1].xdm.timestamp}. */
    public record FieldError(String path, String message) {}
}
