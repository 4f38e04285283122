package org.xdmedge.http;

import io.vertx.core.http.HttpHeaders;
import java.util.Map;

/**
 * Header names (and fixed values) the edge reads or writes on every request, made once as Netty's
 * {@code AsciiString}s: those keep their hash and their bytes, where a {@code String} name was
 * hashed again on every lookup and encoded again on every answer.
 */
final class HeaderNames {
    static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("x-request-id");
    static final CharSequence X_ADOBE_EDGE = HttpHeaders.createOptimized("x-adobe-edge");
    static final CharSequence CONTENT_TYPE = HttpHeaders.createOptimized("content-type");
    static final CharSequence CONTENT_LENGTH = HttpHeaders.createOptimized("content-length");
    static final CharSequence CONTENT_ENCODING = HttpHeaders.createOptimized("content-encoding");
    static final CharSequence COOKIE = HttpHeaders.createOptimized("cookie");
    static final CharSequence ORIGIN = HttpHeaders.createOptimized("origin");
    static final CharSequence VARY = HttpHeaders.createOptimized("vary");
    static final CharSequence ORIGIN_VALUE = HttpHeaders.createOptimized("Origin");
    static final CharSequence JSON_UTF8 = HttpHeaders.createOptimized("application/json;charset=utf-8");

    /** What the pipeline reads through {@code EdgeCall.header} on every request (the credentials). */
    private static final Map<String, CharSequence> BY_NAME = Map.of(
            "authorization", HttpHeaders.createOptimized("authorization"),
            "x-api-key", HttpHeaders.createOptimized("x-api-key"),
            "x-gw-ims-org-id", HttpHeaders.createOptimized("x-gw-ims-org-id"));

    private HeaderNames() {}

    /** The optimized form of a lower-case name the pipeline reads on every request, else the name itself. */
    static CharSequence of(String name) {
        CharSequence known = BY_NAME.get(name);
        return known != null ? known : name;
    }
}
