package org.xdmedge.quality;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.ExecutionConfig;
import com.networknt.schema.ExecutionContext;
import com.networknt.schema.ExecutionContextCustomizer;
import com.networknt.schema.OutputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaContext;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.DialectId;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.AbstractKeyword;
import com.networknt.schema.keyword.KeywordValidator;
import com.networknt.schema.keyword.NonValidationKeyword;
import com.networknt.schema.path.NodePath;
import com.networknt.schema.path.PathType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A JSON Schema of the event's {@code xdm} object, compiled once (networknt json-schema-validator).
 * The draft is the one the schema's {@code $schema} names (draft-04 to 2020-12; 2020-12 when it
 * names none). Keywords the draft does not define, such as the Schema Registry's {@code meta:*},
 * are annotations: they neither fail compilation nor validation. {@code format} is asserted
 * ({@code date-time}, {@code uri}, ...), as Adobe's ingestion does. References are resolved
 * within the file only: a {@code $ref} to a {@code https://ns.adobe.com/...} id that the file does
 * not contain fails at start-up, never by fetching over the network while serving.
 */
public final class SchemaCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * One configuration for every validation, built once: what the library would otherwise build
     * twice per call. Annotations are not collected: nothing reads them.
     */
    private static final ExecutionConfig EXECUTION = ExecutionConfig.builder()
            .locale(Locale.ENGLISH) // the same messages in quarantine records whatever the host's locale
            .formatAssertionsEnabled(true)
            .annotationCollectionEnabled(false)
            .build();
    /** The errors as the library collected them, the execution context left as it is. */
    private static final OutputFormat<List<Error>> ERRORS = (schema, context, schemaContext) -> context.getErrors();

    private final Schema schema;

    private SchemaCheck(Schema schema) {
        this.schema = schema;
    }

    /** Reads and compiles {@code file}; an IllegalArgumentException says why it cannot be used. */
    public static SchemaCheck compile(Path file) {
        JsonNode tree;
        try {
            tree = JSON.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("is not JSON (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage() + ")");
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot be read: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new IllegalArgumentException("is not a JSON Schema object");
        }
        return compile(tree, file.toUri().toString());
    }

    static SchemaCheck compile(JsonNode tree, String location) {
        try {
            Schema schema = registry().getSchema(SchemaLocation.of(location), tree);
            schema.initializeValidators(); // resolves every $ref now, so a broken one stops start-up
            return new SchemaCheck(schema);
        } catch (SchemaException | IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            throw new IllegalArgumentException("is not a usable JSON Schema: " + e.getMessage());
        }
    }

    private static SchemaRegistry registry() {
        SchemaRegistryConfig config = SchemaRegistryConfig.builder()
                .formatAssertionsEnabled(true)
                .pathType(PathType.JSON_POINTER)
                .locale(Locale.ENGLISH) // the same messages in quarantine records whatever the host's locale
                .build();
        List<Dialect> dialects = new ArrayList<>();
        for (Dialect d : List.of(Dialects.getDraft4(), Dialects.getDraft6(), Dialects.getDraft7(),
                Dialects.getDraft201909(), Dialects.getDraft202012())) {
            // Unknown keywords (meta:*, Adobe's annotations) are kept as annotations, without a warning each.
            dialects.add(Dialect.builder(d).unknownKeywordFactory((name, context) -> new Annotation(name)).build());
        }
        return SchemaRegistry.withDialects(dialects, builder -> builder
                .defaultDialectId(DialectId.DRAFT_2020_12)
                .schemaRegistryConfig(config)
                .schemaLoader(loader -> loader.fetchRemoteResources(false)));
    }

    /**
     * A keyword the draft does not define ({@code title} and {@code description} in the drafts the
     * library knows as vocabularies only, the Schema Registry's {@code meta:*}). Text, numbers and
     * lists get no validator at all: an XDM schema has several such keywords on every field, and
     * each validator, even one that does nothing, costs every event a step. An object keeps the
     * library's own annotation validator, which registers an {@code $id} it may hold.
     */
    private static final class Annotation extends AbstractKeyword {
        private final NonValidationKeyword kept;

        Annotation(String name) {
            super(name);
            this.kept = new NonValidationKeyword(name);
        }

        @Override
        public KeywordValidator newValidator(SchemaLocation location, JsonNode value, Schema parent, SchemaContext context) {
            return value.isObject() ? kept.newValidator(location, value, parent, context) : null;
        }
    }

    /** Every violation of {@code xdm}, named by path from {@code xdm}; empty when it is valid. */
    public List<Violation> validate(JsonNode xdm) {
        List<Error> errors = schema.validate(new ExecutionContext(EXECUTION), xdm, ERRORS, (ExecutionContextCustomizer) null);
        if (errors.isEmpty()) {
            return List.of();
        }
        List<Violation> violations = new ArrayList<>(errors.size());
        for (Error e : errors) {
            String path = path(e.getInstanceLocation());
            if (e.getProperty() != null && ("required".equals(e.getKeyword()) || "additionalProperties".equals(e.getKeyword())
                    || "unevaluatedProperties".equals(e.getKeyword()) || "dependentRequired".equals(e.getKeyword())
                    || "dependencies".equals(e.getKeyword()))) {
                path = path + "." + e.getProperty();
            }
            violations.add(new Violation(path, e.getKeyword(), e.getMessage()));
        }
        return violations;
    }

    /** {@code xdm.web.webPageDetails.URL}, {@code xdm.productListItems[0].SKU}. */
    static String path(NodePath at) {
        StringBuilder out = new StringBuilder("xdm");
        for (int i = 0; i < at.getNameCount(); i++) {
            Object element = at.getElement(i);
            if (element instanceof Integer index) {
                out.append('[').append(index).append(']');
            } else {
                out.append('.').append(element);
            }
        }
        return out.toString();
    }
}
