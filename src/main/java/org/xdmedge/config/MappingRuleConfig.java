package org.xdmedge.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * One {@code mapping:} rule of a datastream: where a value comes from ({@code from}: a path, or a
 * list of paths for {@code concat}), the xdm path it goes to, and how it is converted on the way.
 * Checked and compiled by {@code quality.Mapping}.
 */
public record MappingRuleConfig(JsonNode from, String to, String fn, Boolean lower, String separator,
                                @JsonProperty("default") JsonNode defaultValue, String format, String zone) {}
