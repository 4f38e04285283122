package org.xdmedge.http;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.regex.Pattern;

/**
 * The headers every answer carries, whatever route and status (spec §1): CORS for browser callers
 * and {@code x-adobe-edge}. It runs first on every request, so refusals, 404s and {@code /health}
 * are covered too, and it answers CORS preflights itself.
 *
 * <p>The Web SDK sends {@code fetch(..., {credentials: "include"})}, so the allowed origin must be
 * the caller's exact Origin (a {@code *} is refused by browsers for credentialed requests) and the
 * answer must vary by Origin for caches. It reads {@code x-adobe-edge} (region id) and
 * {@code retry-after} (back-off), which a browser hides cross-origin unless they are exposed.
 */
final class BrowserHeaders {
    static final String EXPOSED = "x-adobe-edge, x-request-id, retry-after, x-rate-limit-remaining";
    static final String METHODS = "POST, GET, OPTIONS";
    /** Chromium caps preflight caching at two hours; asking for more gains nothing. */
    static final String MAX_AGE = "7200";
    /** What a preflight may ask for: header names are tokens; anything else is not echoed. */
    private static final Pattern HEADER_LIST = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+(\\s*,\\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*");
    private static final int MAX_ECHO = 1024;

    private final CharSequence edgeHeader;

    BrowserHeaders(String edgeHeader) {
        this.edgeHeader = HttpHeaders.createOptimized(edgeHeader);
    }

    /**
     * Puts the every-answer headers on the request's response (first thing for every request, and
     * for the requests the HTTP decoder could not read). True when CORS applies.
     */
    boolean decorate(HttpServerRequest req) {
        MultiMap out = req.response().headers();
        out.set(HeaderNames.X_ADOBE_EDGE, edgeHeader);
        if (!out.contains(HeaderNames.VARY, HeaderNames.ORIGIN_VALUE, true)) {
            out.add(HeaderNames.VARY, HeaderNames.ORIGIN_VALUE);
        }
        String origin = req.getHeader(HeaderNames.ORIGIN);
        boolean cors = echoable(origin);
        if (cors) {
            out.set("access-control-allow-origin", origin);
            out.set("access-control-allow-credentials", "true");
            out.set("access-control-expose-headers", EXPOSED);
        }
        return cors;
    }

    /** The answer to a CORS preflight ({@code OPTIONS}): what the browser may send. */
    static void preflight(HttpServerRequest req, boolean cors) {
        MultiMap out = req.response().headers();
        out.set("allow", METHODS);
        if (!cors) {
            return;
        }
        out.set("access-control-allow-methods", METHODS);
        String requested = req.getHeader("access-control-request-headers");
        if (requested != null && requested.length() <= MAX_ECHO && HEADER_LIST.matcher(requested.trim()).matches()) {
            out.set("access-control-allow-headers", requested.trim());
        } else {
            out.set("access-control-allow-headers", "content-type, content-encoding, x-request-id");
        }
        out.add("vary", "Access-Control-Request-Headers");
        out.set("access-control-max-age", MAX_AGE);
        if ("true".equalsIgnoreCase(req.getHeader("access-control-request-private-network"))) {
            // Chromium's Private Network Access preflight, when a public page calls an edge on a private address.
            out.set("access-control-allow-private-network", "true");
        }
    }

    /**
     * Any real origin is echoed: the edge is a collection endpoint called from customers' sites,
     * like Adobe's. The opaque origin {@code null} (sandboxed frames, file: pages) is not, since
     * echoing it would grant every sandboxed document credentialed access.
     */
    static boolean echoable(String origin) {
        if (origin == null || origin.isEmpty() || origin.length() > 2048 || origin.equals("null")) {
            return false;
        }
        for (int i = 0; i < origin.length(); i++) {
            char c = origin.charAt(i);
            if (c < 0x21 || c > 0x7e || c == ',') {
                return false;
            }
        }
        return true;
    }
}
