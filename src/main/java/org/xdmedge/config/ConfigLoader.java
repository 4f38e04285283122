package org.xdmedge.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration strictly: unknown keys, wrong types and broken references all stop
 * start-up with a message naming the key and its line, so nothing ever starts half-configured.
 */
public final class ConfigLoader {
    /** The least {@code storage.retention.maxBytes}: four 64 MiB segments of the event log (the two newest always stay). */
    static final long MIN_RETENTION_BYTES = 256L << 20;
    public static final String DEFAULT_RESOURCE = "/xdm-edge-default.yaml";
    private static final Pattern ORG_ID = Pattern.compile("[A-Za-z0-9]{1,64}@AdobeOrg");
    private static final Pattern SIMPLE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** A host name with at least two labels; Set-Cookie Domain values are matched case-insensitively, written lower-case. */
    private static final Pattern COOKIE_DOMAIN = Pattern.compile(
            "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+");
    private static final Pattern REGION = Pattern.compile("[a-z]{2,4}[0-9]{1,2}");
    /** RFC 6265 cookie-name token characters. */
    private static final Pattern COOKIE_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}");
    /** An HMAC key shorter than this is guessable; FPID-derived ECIDs must not be forgeable. */
    static final int MIN_FPID_SECRET_LENGTH = 16;

    /**
     * YAML 1.1's yes/no/on/off stay words: the tree is bound after it is built, and a boolean node
     * would turn an id such as {@code off} into {@code false}. Booleans are spelled true and false.
     */
    private final YAMLFactory yaml = YAMLFactory.builder()
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .build();
    private static final List<ConfigCheck> CHECKS = ConfigCheck.installed();
    /** Binding stops after this many refused keys: a file that wrong is likely not a configuration at all. */
    private static final int MAX_BINDING_PROBLEMS = 100;

    private final ObjectMapper mapper = JsonMapper.builder(yaml)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    public EdgeConfig load(Path file) throws ConfigException {
        if (Files.isDirectory(file)) {
            throw new ConfigException("configuration file " + file + " is a directory; give --config the YAML file");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("configuration file " + file + " does not exist; check the --config path", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException("configuration file " + file + " cannot be read by this user (permission denied)", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException("configuration file " + file + " is not UTF-8 text", e);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
        Path folder = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), folder == null ? Path.of("").toAbsolutePath() : folder);
    }

    public EdgeConfig loadDefault() throws ConfigException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new ConfigException("embedded default configuration is missing from the jar");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "embedded default");
        } catch (IOException e) {
            throw new ConfigException("cannot read embedded default configuration: " + e.getMessage(), e);
        }
    }

    public EdgeConfig parse(String text, String source) throws ConfigException {
        return parse(text, source, Path.of("").toAbsolutePath());
    }

    /**
     * Reads, binds and checks a configuration, reporting every problem of the text at once.
     * {@code baseDir}: where relative file names in the configuration are resolved.
     */
    public EdgeConfig parse(String text, String source, Path baseDir) throws ConfigException {
        Report report = new Report(YamlLines.of(text));
        ObjectNode tree = tree(text, source);
        EdgeConfig config = bind(tree, report);
        if (config != null) {
            config = resolveRelativePaths(config, baseDir);
            config = resolveActivitiesFiles(config, baseDir);
            validate(config, report);
        }
        report.throwIfAny(source);
        return config;
    }

    /** The YAML as a tree; only a syntax error stops here, since nothing after it can be read. */
    private ObjectNode tree(String text, String source) throws ConfigException {
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source + ": not valid YAML at line " + line(e.getLocation()) + ": "
                    + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return mapper.createObjectNode();
        }
        if (!(root instanceof ObjectNode object)) {
            throw new ConfigException(source + ": the configuration must be a section of keys (server:, organizations:, ...), not "
                    + kindOf(root));
        }
        return object;
    }

    /**
     * Binds the tree to the records. Jackson stops at the first key it cannot take, so each such key
     * is reported, set aside, and the binding tried again: one run names every unknown key and
     * every value of the wrong type. Null when something cannot be set aside.
     */
    private EdgeConfig bind(ObjectNode tree, Report report) {
        for (int attempt = 0; attempt < MAX_BINDING_PROBLEMS; attempt++) {
            try {
                return mapper.treeToValue(tree, EdgeConfig.class);
            } catch (JsonMappingException e) {
                report.refuse(YamlLines.pathOf(e), describe(e, nodeAt(tree, e.getPath())));
                if (!setAside(tree, e)) {
                    return null;
                }
            } catch (JsonProcessingException e) {
                report.refuse("", "cannot be read: " + e.getOriginalMessage());
                return null;
            }
        }
        return null;
    }

    /** What is wrong with a value Jackson refused, in the configuration's words (never a Java class name). */
    private static String describe(JsonMappingException e, JsonNode found) {
        if (e instanceof UnrecognizedPropertyException unknown) {
            Set<String> known = new TreeSet<>();
            unknown.getKnownPropertyIds().forEach(id -> known.add(String.valueOf(id)));
            return "unknown key (known keys here: " + String.join(", ", known) + ")";
        }
        String was = found == null ? "" : " (found " + kindOf(found) + ")";
        if (e instanceof MismatchedInputException mismatch && mismatch.getTargetType() != null) {
            return "must be " + expected(mismatch.getTargetType()) + was;
        }
        return "is not a valid value here" + was;
    }

    private static String expected(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class || type == BigInteger.class) {
            return "a whole number";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (CharSequence.class.isAssignableFrom(type)) {
            return "text";
        }
        if (type.isEnum()) {
            return "one of " + String.join(", ", enumNames(type));
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a list";
        }
        return "a section of keys (name: value)";
    }

    /** The names an enum is written with in YAML ({@code @JsonProperty}), else its constants' names. */
    private static List<String> enumNames(Class<?> type) {
        List<String> names = new ArrayList<>();
        for (Object constant : type.getEnumConstants()) {
            String name = ((Enum<?>) constant).name();
            try {
                JsonProperty property = type.getField(name).getAnnotation(JsonProperty.class);
                names.add(property != null ? property.value() : name);
            } catch (NoSuchFieldException e) {
                names.add(name);
            }
        }
        return names;
    }

    /** The kind of a YAML value; never the value itself, which may be a secret. */
    private static String kindOf(JsonNode node) {
        if (node.isTextual()) {
            return "text";
        }
        if (node.isNumber()) {
            return "a number";
        }
        if (node.isBoolean()) {
            return "true or false";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isObject()) {
            return "a section of keys";
        }
        return "nothing";
    }

    private static JsonNode nodeAt(JsonNode tree, List<JsonMappingException.Reference> path) {
        JsonNode at = tree;
        for (JsonMappingException.Reference ref : path) {
            at = at == null ? null : ref.getFieldName() != null ? at.get(ref.getFieldName()) : at.get(ref.getIndex());
        }
        return at;
    }

    /**
     * Removes a refused key from the tree, or puts an empty value of the right kind in the place of
     * a refused list item so the items after it keep their numbers. False when nothing changes.
     */
    private static boolean setAside(ObjectNode tree, JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        if (path.isEmpty()) {
            return false;
        }
        JsonNode parent = nodeAt(tree, path.subList(0, path.size() - 1));
        JsonMappingException.Reference last = path.get(path.size() - 1);
        if (last.getFieldName() != null && parent instanceof ObjectNode object) {
            return object.remove(last.getFieldName()) != null;
        }
        if (last.getIndex() >= 0 && parent instanceof ArrayNode array && last.getIndex() < array.size()) {
            JsonNode standIn = standIn(e);
            if (standIn == null || standIn.equals(array.get(last.getIndex()))) {
                return false;
            }
            array.set(last.getIndex(), standIn);
            return true;
        }
        return false;
    }

    private static JsonNode standIn(JsonMappingException e) {
        Class<?> type = e instanceof MismatchedInputException m ? m.getTargetType() : null;
        if (type == null || CharSequence.class.isAssignableFrom(type)) {
            return type == null ? null : JsonNodeFactory.instance.textNode("");
        }
        boolean scalar = type.isPrimitive() || Number.class.isAssignableFrom(type) || type == Boolean.class
                || type.isEnum() || Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type);
        return scalar ? null : JsonNodeFactory.instance.objectNode();
    }

    /**
     * Makes every relative file name in the configuration absolute against {@code baseDir} (the
     * configuration file's folder), so the edge reads the same files from any working directory.
     */
    static EdgeConfig resolveRelativePaths(EdgeConfig config, Path baseDir) {
        EdgeConfig resolved = SecurityConfigChecks.resolveFiles(config, baseDir);
        var server = resolved.server();
        var tls = server.tls();
        var absoluteTls = new EdgeConfig.TlsConfig(resolve(tls.certFile(), baseDir), resolve(tls.keyFile(), baseDir));
        if (!absoluteTls.equals(tls)) {
            resolved = resolved.withServer(server.with(server.host(), server.port(), absoluteTls));
        }
        return resolveSchemaFiles(resolveKafkaFiles(resolved, baseDir), baseDir);
    }

    /** A datastream's {@code schema} file is relative to the configuration file. */
    private static EdgeConfig resolveSchemaFiles(EdgeConfig config, Path baseDir) {
        List<EdgeConfig.DatastreamConfig> datastreams = new ArrayList<>();
        for (EdgeConfig.DatastreamConfig ds : config.datastreams()) {
            datastreams.add(ds.schema() == null ? ds : ds.withSchema(resolve(ds.schema(), baseDir)));
        }
        return datastreams.equals(config.datastreams()) ? config : config.withDatastreams(datastreams);
    }

    /** Kafka producer settings that name files end in {@code .location} (trust and key stores). */
    private static EdgeConfig resolveKafkaFiles(EdgeConfig config, Path baseDir) {
        List<EdgeConfig.DatasetConfig> datasets = new ArrayList<>();
        boolean changed = false;
        for (EdgeConfig.DatasetConfig dataset : config.datasets()) {
            var kafka = dataset.kafka();
            if (kafka != null) {
                Map<String, Object> producer = new LinkedHashMap<>(kafka.producer());
                producer.replaceAll((key, value) -> key.endsWith(".location") && value instanceof String file
                        ? resolve(file, baseDir) : value);
                if (!producer.equals(kafka.producer())) {
                    dataset = new EdgeConfig.DatasetConfig(dataset.name(), dataset.outlet(), kafka.withProducer(producer));
                    changed = true;
                }
            }
            datasets.add(dataset);
        }
        return changed ? config.withDatasets(datasets) : config;
    }

    private static String resolve(String file, Path baseDir) {
        if (file == null || file.isBlank() || Path.of(file).isAbsolute()) {
            return file;
        }
        return baseDir.resolve(file).normalize().toString();
    }

    /** Every check of the bound configuration, section by section; all problems are collected. */
    private static void validate(EdgeConfig config, Problems p) {
        serverProblems(config.server(), p);
        storageProblems(config.storage(), p);
        identityProblems(config.identity(), p);
        Set<String> orgsWithSecret = new HashSet<>();
        Set<String> orgs = organizationProblems(config, orgsWithSecret, p);
        datastreamProblems(config, orgs, orgsWithSecret, p);
        SecurityConfigChecks.validate(config, p::add);
        for (OutletConfigCheck.Problem problem : OutletConfigCheck.problems(config)) {
            p.add(problem.path(), problem.message());
        }
        for (ConfigCheck check : CHECKS) {
            check.check(config, p::add);
        }
    }

    private static void serverProblems(EdgeConfig.ServerConfig server, Problems p) {
        if (server.port() < 0 || server.port() > 65535) {
            p.add("server.port", "must be between 0 and 65535");
        }
        if (!REGION.matcher(server.region()).matches()) {
            p.add("server.region", "must be a region such as or2, va6, irl1");
        }
        if (server.maxRequestBytes() < 1024 || server.maxRequestBytes() > 64 * 1024 * 1024) {
            p.add("server.maxRequestBytes", "must be between 1024 and 67108864");
        }
        if (server.eventLoops() < 1 || server.eventLoops() > 256) {
            p.add("server.eventLoops", "must be between 1 and 256");
        }
        if (server.shutdownGraceSeconds() < 0 || server.shutdownGraceSeconds() > 3600) {
            p.add("server.shutdownGraceSeconds", "must be between 0 and 3600");
        }
        if (server.requestTimeoutSeconds() < 1 || server.requestTimeoutSeconds() > 3600) {
            p.add("server.requestTimeoutSeconds", "must be between 1 and 3600");
        }
        if (server.maxConnections() < 1 || server.maxConnections() > 1_000_000) {
            p.add("server.maxConnections", "must be between 1 and 1000000");
        }
        tlsProblems(server.tls(), "server.tls.certFile", "server.tls.keyFile", p);
    }

    private static void storageProblems(EdgeConfig.StorageConfig storage, Problems p) {
        if (storage.queueCapacity() < 1) {
            p.add("storage.queueCapacity", "must be at least 1");
        }
        if (storage.maxRequestsPerCommit() < 1) {
            p.add("storage.maxRequestsPerCommit", "must be at least 1");
        }
        if (storage.retryAfterSeconds() < 1) {
            p.add("storage.retryAfterSeconds", "must be at least 1");
        }
        if (storage.minFreeBytes() != null && storage.minFreeBytes() < 0) {
            p.add("storage.minFreeBytes", "must be at least 0 (0: writes are taken until the disk is full)");
        }
        if (!EdgeConfig.StorageConfig.COMPRESSIONS.contains(storage.compression())) {
            p.add("storage.compression", "must be one of " + String.join(", ", EdgeConfig.StorageConfig.COMPRESSIONS));
        }
        if (!EdgeConfig.StorageConfig.HAND_OVERS.contains(storage.writerHandOver())) {
            p.add("storage.writerHandOver", "must be one of " + String.join(", ", EdgeConfig.StorageConfig.HAND_OVERS));
        }
        var retention = storage.retention();
        if (retention.maxBytes() != null && retention.maxBytes() < MIN_RETENTION_BYTES) {
            p.add("storage.retention.maxBytes", "must be at least " + MIN_RETENTION_BYTES
                    + " (256 MiB: the two newest 64 MiB segments are always kept)");
        }
        if (retention.maxAgeHours() != null && retention.maxAgeHours() < 1) {
            p.add("storage.retention.maxAgeHours", "must be at least 1");
        }
    }

    private static void identityProblems(IdentityConfig identity, Problems p) {
        String sharedSecret = identity.fpidSecret();
        if (sharedSecret != null && sharedSecret.length() < MIN_FPID_SECRET_LENGTH) {
            p.add("identity.fpidSecret", "must be at least " + MIN_FPID_SECRET_LENGTH + " characters");
        }
    }

    /** Checks {@code organizations[]}; returns their ids and fills {@code orgsWithSecret} (those with an FPID secret). */
    private static Set<String> organizationProblems(EdgeConfig config, Set<String> orgsWithSecret, Problems p) {
        String sharedSecret = config.identity().fpidSecret();
        Set<String> orgs = new HashSet<>();
        for (int i = 0; i < config.organizations().size(); i++) {
            String id = config.organizations().get(i).id();
            String secret = config.organizations().get(i).fpidSecret();
            if (secret != null && secret.length() < MIN_FPID_SECRET_LENGTH) {
                p.add("organizations[" + i + "].fpidSecret", "must be at least " + MIN_FPID_SECRET_LENGTH + " characters");
            }
            if (id != null && (secret != null || sharedSecret != null)) {
                orgsWithSecret.add(id);
            }
            String at = "organizations[" + i + "].id";
            if (id == null) {
                p.add(at, "is required");
            } else if (!ORG_ID.matcher(id).matches()) {
                p.add(at, "must look like 53A16ACB5CC1D3760A495C99@AdobeOrg");
            } else if (!orgs.add(id)) {
                p.add(at, "duplicate organization '" + id + "'");
            }
        }
        return orgs;
    }

    private static void datastreamProblems(EdgeConfig config, Set<String> orgs, Set<String> orgsWithSecret, Problems p) {
        Set<String> datastreams = new HashSet<>();
        for (int i = 0; i < config.datastreams().size(); i++) {
            var ds = config.datastreams().get(i);
            String at = "datastreams[" + i + "]";
            if (ds.id() == null) {
                p.add(at + ".id", "is required");
            } else if (!SIMPLE_ID.matcher(ds.id()).matches()) {
                p.add(at + ".id", "must be letters, digits, '.', '_' or '-'");
            } else if (!datastreams.add(ds.id())) {
                p.add(at + ".id", "duplicate datastream '" + ds.id() + "'");
            }
            if (ds.orgId() == null) {
                p.add(at + ".orgId", "is required");
            } else if (!orgs.contains(ds.orgId())) {
                p.add(at + ".orgId", "names unknown organization '" + ds.orgId() + "'");
            }
            if (ds.cookieDomain() != null && (ds.cookieDomain().length() > 253
                    || !COOKIE_DOMAIN.matcher(ds.cookieDomain()).matches())) {
                p.add(at + ".cookieDomain", "must be a lower-case domain name such as example.com (no leading dot, no port)");
            }
            if (ds.dataset() == null) {
                p.add(at + ".dataset", "is required");
            } else if (!SIMPLE_ID.matcher(ds.dataset()).matches()) {
                p.add(at + ".dataset", "must be letters, digits, '.', '_' or '-'");
            }
            validateSdkKeys(ds, at, orgsWithSecret, p);
        }
    }

    /** Makes relative {@code personalization.activitiesFile} names absolute against the configuration's folder. */
    private static EdgeConfig resolveActivitiesFiles(EdgeConfig config, Path baseDir) {
        List<EdgeConfig.DatastreamConfig> resolved = new ArrayList<>();
        for (var ds : config.datastreams()) {
            resolved.add(ds == null || ds.personalization() == null ? ds : ds.withPersonalization(ds.personalization().resolved(baseDir)));
        }
        return config.withDatastreams(resolved);
    }

    /** The consent, FPID and override keys of a datastream. */
    private static void validateSdkKeys(EdgeConfig.DatastreamConfig ds, String at, Set<String> orgsWithSecret, Problems p) {
        String consentDefault = ds.consent().defaultConsent();
        if (!ConsentConfig.IN.equals(consentDefault) && !ConsentConfig.PENDING.equals(consentDefault)) {
            p.add(at + ".consent.default", "must be 'in' or 'pending'");
        }
        int vendor = ds.consent().iabVendorId();
        if (vendor < 1 || vendor > 65535) {
            p.add(at + ".consent.iabVendorId", "must be an IAB vendor id between 1 and 65535");
        }
        for (int j = 0; j < ds.allowedDatasets().size(); j++) {
            String allowed = ds.allowedDatasets().get(j);
            if (allowed == null || !SIMPLE_ID.matcher(allowed).matches()) {
                p.add(at + ".allowedDatasets[" + j + "]", "must be letters, digits, '.', '_' or '-'");
            }
        }
        if (ds.fpidCookie() != null) {
            if (!COOKIE_NAME.matcher(ds.fpidCookie()).matches()) {
                p.add(at + ".fpidCookie", "must be a cookie name (letters, digits and !#$%&'*+.^_`|~-)");
            } else if (ds.orgId() != null && !orgsWithSecret.contains(ds.orgId())) {
                p.add(at + ".fpidCookie", "needs an FPID secret: set identity.fpidSecret or the organization's fpidSecret");
            }
        }
    }

    /**
     * The problems of one configuration text, each naming its key and line, in line order. Keys under
     * a refused one (set aside while binding) are not reported again: their defaults are not the user's.
     */
    private static final class Report implements Problems {
        private record Entry(int line, String text) {}

        private final YamlLines lines;
        private final List<Entry> entries = new ArrayList<>();
        private final List<String> refused = new ArrayList<>();

        Report(YamlLines lines) {
            this.lines = lines;
        }

        void refuse(String path, String message) {
            refused.add(path);
            record(path, message);
        }

        @Override
        public void add(String path, String message) {
            for (String r : refused) {
                if (path.equals(r) || path.startsWith(r + ".") || path.startsWith(r + "[")) {
                    return;
                }
            }
            record(path, message);
        }

        private void record(String path, String message) {
            int line = lines.lineOf(path);
            entries.add(new Entry(line, (path.isEmpty() ? "" : "'" + path + "' ") + "at line " + line + ": " + message));
        }

        void throwIfAny(String source) throws ConfigException {
            if (entries.isEmpty()) {
                return;
            }
            List<String> texts = entries.stream().sorted(Comparator.comparingInt(Entry::line)).map(Entry::text).toList();
            throw new ConfigException(source + ": invalid configuration:\n  " + String.join("\n  ", texts));
        }
    }

    @FunctionalInterface
    public interface Problems {
        void add(String path, String message);
    }

    /** Both TLS files or neither, each a readable PEM file, the key the one of the certificate. */
    public static void tlsProblems(EdgeConfig.TlsConfig tls, String certName, String keyName, Problems p) {
        if (!tls.enabled()) {
            return;
        }
        if (tls.certFile() == null) {
            p.add(certName, "is required when " + keyName + " is set");
        } else if (!Files.isReadable(Path.of(tls.certFile())) || Files.isDirectory(Path.of(tls.certFile()))) {
            p.add(certName, "cannot read PEM certificate file '" + tls.certFile() + "'");
        }
        if (tls.keyFile() == null) {
            p.add(keyName, "is required when " + certName + " is set");
        } else if (!Files.isReadable(Path.of(tls.keyFile())) || Files.isDirectory(Path.of(tls.keyFile()))) {
            p.add(keyName, "cannot read PEM private key file '" + tls.keyFile() + "'");
        } else if (readable(tls.certFile())) {
            TlsKeyPair.Problem pair = TlsKeyPair.check(Path.of(tls.certFile()), Path.of(tls.keyFile()));
            if (pair != null) {
                p.add(pair.inCertFile() ? certName : keyName, pair.message());
            }
        }
    }

    private static boolean readable(String file) {
        return file != null && Files.isReadable(Path.of(file)) && !Files.isDirectory(Path.of(file));
    }

    private static int line(JsonLocation location) {
        return location == null ? 0 : location.getLineNr();
    }
}
