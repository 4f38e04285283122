package org.xdmedge.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.protocol.EdgeJson;

/** The drafts and the Schema Registry's habits a schema file may have. */
class SchemaCheckTest {
    @TempDir
    Path dir;

    private SchemaCheck compile(String json) throws Exception {
        Path file = dir.resolve("s" + System.nanoTime() + ".json");
        Files.writeString(file, json);
        return SchemaCheck.compile(file);
    }

    private static JsonNode json(String text) throws Exception {
        return EdgeJson.MAPPER.readTree(text);
    }

    @Test
    void draft202012WithDefsAndAnEmbeddedAdobeIdResolvesWithoutTheNetwork() throws Exception {
        SchemaCheck check = compile("""
                {"$schema": "https://json-schema.org/draft/2020-12/schema",
                 "$id": "https://ns.adobe.com/acme/schemas/checkout",
                 "meta:class": "https://ns.adobe.com/xdm/context/experienceevent", "meta:xdmType": "object",
                 "type": "object", "required": ["web"],
                 "properties": {"web": {"$ref": "https://ns.adobe.com/xdm/context/webinfo"},
                                "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}},
                 "$defs": {
                   "webinfo": {"$id": "https://ns.adobe.com/xdm/context/webinfo", "type": "object",
                               "properties": {"URL": {"type": "string", "format": "uri"}}},
                   "item": {"type": "object", "required": ["SKU"], "properties": {"SKU": {"type": "string"}},
                            "unevaluatedProperties": false}}}
                """);
        assertThat(check.validate(json("{\"web\":{\"URL\":\"https://a.example/\"},\"items\":[{\"SKU\":\"1\"}]}"))).isEmpty();
        assertThat(check.validate(json("{\"web\":{\"URL\":\"not a uri\"},\"items\":[{\"SKU\":\"1\",\"x\":1}]}")))
                .extracting(v -> v.path() + " " + v.keyword())
                .containsExactlyInAnyOrder("xdm.web.URL format", "xdm.items[0].x unevaluatedProperties");
    }

    @Test
    void draft07WithDefinitions() throws Exception {
        SchemaCheck check = compile("""
                {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                 "properties": {"timestamp": {"type": "string", "format": "date-time"},
                                "environment": {"$ref": "#/definitions/environment"}},
                 "definitions": {"environment": {"type": "object",
                     "properties": {"type": {"type": "string", "enum": ["browser", "application"]}}}}}
                """);
        assertThat(check.validate(json("{\"timestamp\":\"2026-03-01T09:30:00Z\",\"environment\":{\"type\":\"browser\"}}"))).isEmpty();
        assertThat(check.validate(json("{\"timestamp\":\"2026-03-01 09:30\",\"environment\":{\"type\":\"car\"}}")))
                .extracting(v -> v.path() + " " + v.keyword())
                .containsExactlyInAnyOrder("xdm.timestamp format", "xdm.environment.type enum");
    }

    @Test
    void aReferenceToAnIdTheFileDoesNotHoldStopsCompilation() {
        assertThatThrownBy(() -> compile("""
                {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                 "properties": {"web": {"$ref": "https://ns.adobe.com/xdm/context/webinfo"}}}
                """)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a usable JSON Schema")
                .hasMessageContaining("https://ns.adobe.com/xdm/context/webinfo");
    }

    @Test
    void theAssembledExperienceEventSchemaCompilesWithItsMetaKeywords() throws Exception {
        SchemaCheck check = SchemaCheck.compile(QualityFixtures.schema());
        assertThat(check.validate(json("{\"_id\":\"e-1\",\"timestamp\":\"2026-03-01T09:30:00Z\","
                + "\"eventType\":\"commerce.purchases\",\"commerce\":{\"purchases\":{\"value\":1}}}"))).isEmpty();
        // eventType's known values are a meta:enum in XDM (suggestions), not an enum.
        assertThat(check.validate(json("{\"_id\":\"e-1\",\"timestamp\":\"2026-03-01T09:30:00Z\",\"eventType\":\"acme.custom\"}")))
                .isEmpty();
        assertThat(check.validate(json("{\"eventType\":1}"))).extracting(v -> v.path() + " " + v.keyword())
                .containsExactlyInAnyOrder("xdm._id required", "xdm.timestamp required", "xdm.eventType type");
    }
}
