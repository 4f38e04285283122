package org.xdmedge.protocol;

/** The Edge Network error codes this server answers with (spec §5). */
public enum EdgeError {
    SERVICE_UNAVAILABLE("0000", 503, "Service unavailable"),
    UNEXPECTED("0001", 500, "Unexpected error"),
    DATASTREAM_MISSING("0002", 400, "Missing datastream ID"),
    DATASTREAM_UNKNOWN("0003", 400, "Invalid datastream ID"),
    DATASTREAM_DISABLED("0004", 422, "Datastream disabled"),
    INVALID_JSON("0101", 400, "Invalid request body"),
    INVALID_FIELD("0102", 400, "Invalid field value"),
    MISSING_FIELD("0103", 400, "Missing required field"),
    VALIDATION_REPORT("0104", 422, "Request validation failed"),
    EMPTY_BODY("0109", 408, "Empty request body"),
    METHOD_NOT_ALLOWED("0110", 405, "Method not allowed"),
    UNSUPPORTED_CONTENT_TYPE("0111", 415, "Unsupported content type"),
    BODY_TOO_LARGE("0112", 413, "Request body too large"),
    INVALID_OVERRIDES("0113", 400, "Invalid datastream configuration overrides"),
    // xdm-edge's own codes for refusals the HTTP layer makes before a request is routed.
    MALFORMED_REQUEST("0114", 400, "Malformed HTTP request"),
    URI_TOO_LONG("0115", 414, "Request URI too long"),
    HEADERS_TOO_LARGE("0116", 431, "Request headers too large"),
    REQUEST_TIMEOUT("0117", 408, "Request not received in time"),
    HTTP_VERSION_NOT_SUPPORTED("0118", 505, "HTTP version not supported"),
    NOT_FOUND("0404", 404, "Not found"),
    CONSENT_IGNORED("0301", 200, "Request ignored"),
    IDENTITY_FETCH_DENIED("0303", 200, "Identity namespaces not allowed"),
    INVALID_IDENTITY("0305", 400, "Invalid identity"),
    NO_PRIMARY_IDENTITY("0306", 400, "Missing primary identity"),
    INVALID_IDENTITY_FORMAT("0308", 400, "Invalid identity format"),
    UNAUTHORIZED("0500", 401, "Unauthorized"),
    INVALID_TOKEN_SIGNATURE("0502", 401, "Invalid token signature"),
    TOKEN_EXPIRED("0503", 401, "Token expired or not yet valid"),
    MISSING_PRODUCT_CONTEXT("0504", 401, "Missing product context"),
    MISSING_SCOPE("0505", 401, "Missing required scope"),
    SANDBOX_FORBIDDEN("0506", 401, "No write permission on the sandbox"),
    FORBIDDEN("0403", 403, "Forbidden"),
    RATE_LIMITED("0429", 429, "Too many requests");

    private final String code;
    private final int status;
    private final String title;

    EdgeError(String code, int status, String title) {
        this.code = code;
        this.status = status;
        this.title = title;
    }

    public int status() { return status; }

    public String title() { return title; }

    /** {@code EXEG-0003-400}. */
    public String id() { return "EXEG-" + code + "-" + status; }

    public String typeUri() { return "https://ns.adobe.com/aep/errors/" + id(); }
}
