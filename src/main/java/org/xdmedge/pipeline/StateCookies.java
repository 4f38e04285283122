package org.xdmedge.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mirrors an answer's {@code state:store} items as {@code Set-Cookie} headers on a datastream's
 * first-party cookie domain (spec §3, "State and cookies").
 *
 * <p>Why: the Web SDK only writes {@code state:store} into cookies when a request succeeds, and
 * browsers cap cookies written by script (Safari's ITP: 7 days). Cookies set by a first-party edge
 * (a CNAME under the site's own domain) are server-set and survive both. They are {@code Secure;
 * SameSite=None} like the SDK's own writes, and not {@code HttpOnly}: the SDK must read the identity
 * cookie itself to decide whether an identity is established and to answer getIdentity locally.
 */
public final class StateCookies {
    private StateCookies() {}

    /** {@code reply} plus one Set-Cookie per state item; unchanged when there is no domain or no state. */
    public static EdgeReply attach(EdgeReply reply, String cookieDomain) {
        if (cookieDomain == null || reply == null || reply.body() == null) {
            return reply;
        }
        List<String> cookies = setCookies(reply.body().get("handle"), cookieDomain);
        if (cookies.isEmpty()) {
            return reply;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>(reply.headers());
        List<String> all = new ArrayList<>(headers.getOrDefault("set-cookie", List.of()));
        all.addAll(cookies);
        headers.put("set-cookie", List.copyOf(all));
        return new EdgeReply(reply.status(), reply.body(), Map.copyOf(headers), reply.streaming());
    }

    static List<String> setCookies(JsonNode handles, String cookieDomain) {
        List<String> out = new ArrayList<>();
        if (handles == null || !handles.isArray()) {
            return out;
        }
        for (JsonNode handle : handles) {
            if (!"state:store".equals(handle.path("type").asText())) {
                continue;
            }
            for (JsonNode item : handle.path("payload")) {
                String key = item.path("key").asText("");
                JsonNode value = item.get("value");
                if (!isToken(key) || value == null || !value.isTextual()) {
                    continue;
                }
                StringBuilder cookie = new StringBuilder(key).append('=').append(encode(value.asText()));
                cookie.append("; Domain=").append(cookieDomain).append("; Path=/");
                if (item.path("maxAge").canConvertToLong()) {
                    cookie.append("; Max-Age=").append(Math.max(0, item.path("maxAge").asLong()));
                }
                cookie.append("; Secure; SameSite=None");
                out.add(cookie.toString());
            }
        }
        return out;
    }

    private static boolean isToken(String name) {
        if (name.isEmpty() || name.length() > 256) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= 0x20 || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * RFC 6265 cookie-octets pass unchanged (base64 and {@code general=in} among them); anything
     * else is percent-encoded, which the Web SDK's cookie reader decodes.
     */
    static String encode(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean octet = c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a)
                    || (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
            if (octet && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
