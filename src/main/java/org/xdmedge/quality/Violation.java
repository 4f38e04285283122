package org.xdmedge.quality;

/**
 * One reason an event is not valid: the field ({@code xdm.web.webPageDetails.URL}, array items as
 * {@code [0]}), the JSON Schema keyword it breaks ({@code type}, {@code required}, {@code format},
 * ... or {@code mapping} when a mapping rule could not convert the value), and a message for people.
 */
public record Violation(String path, String keyword, String message) {}
