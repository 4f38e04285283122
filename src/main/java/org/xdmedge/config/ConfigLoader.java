package org.xdmedge.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    private final YAMLFactory yaml = new YAMLFactory();
    private final ObjectMapper mapper = JsonMapper.builder(yaml)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    public EdgeConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration " + file + ": " + e.getMessage(), e);
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

    /** {@code baseDir}: where relative file names in the configuration (key files) are resolved. */
    public EdgeConfig parse(String text, String source, Path baseDir) throws ConfigException {
        EdgeConfig config;
        Map<String, Integer> lines = lines(text);
        try {
            config = mapper.readValue(text, EdgeConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(source + ": unknown key '" + path(e) + "' at line " + line(lines, e)
                    + " (known keys here: " + e.getKnownPropertyIds() + ")", e);
        } catch (JsonMappingException e) {
            throw new ConfigException(source + ": invalid value for '" + path(e) + "' at line " + line(lines, e)
                    + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source + ": not valid YAML at line " + line(e.getLocation()) + ": "
                    + e.getOriginalMessage(), e);
        }
        if (config == null) {
            config = new EdgeConfig(null, null, null, null, null);
        }
        config = SecurityConfigChecks.resolveFiles(config, baseDir);
        validate(config, lines, source);
        return config;
    }

    private void validate(EdgeConfig config, Map<String, Integer> lines, String source) throws ConfigException {
        List<String> problems = new ArrayList<>();
        Problems p = (path, message) -> problems.add("'" + path + "' at line " + lineOf(lines, path) + ": " + message);

        var server = config.server();
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
        tlsProblems(server.tls(), "server.tls.certFile", "server.tls.keyFile", p::add);
        var storage = config.storage();
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
        var retention = storage.retention();
        if (retention.maxBytes() != null && retention.maxBytes() < MIN_RETENTION_BYTES) {
            p.add("storage.retention.maxBytes", "must be at least " + MIN_RETENTION_BYTES
                    + " (256 MiB: the two newest 64 MiB segments are always kept)");
        }
        if (retention.maxAgeHours() != null && retention.maxAgeHours() < 1) {
            p.add("storage.retention.maxAgeHours", "must be at least 1");
        }

        String sharedSecret = config.identity().fpidSecret();
        if (sharedSecret != null && sharedSecret.length() < MIN_FPID_SECRET_LENGTH) {
            p.add("identity.fpidSecret", "must be at least " + MIN_FPID_SECRET_LENGTH + " characters");
        }
        Set<String> orgs = new HashSet<>();
        Set<String> orgsWithSecret = new HashSet<>();
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
        SecurityConfigChecks.validate(config, p::add);
        for (OutletConfigCheck.Problem problem : OutletConfigCheck.problems(config)) {
            p.add(problem.path(), problem.message());
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(source + ": invalid configuration:\n  " + String.join("\n  ", problems));
        }
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

    /** The line of {@code path}, or of its nearest parent that has one (list items have none of their own). */
    private static int lineOf(Map<String, Integer> lines, String path) {
        String at = path;
        while (!at.isEmpty()) {
            Integer line = lines.get(at);
            if (line != null) {
                return line;
            }
            int cut = Math.max(at.lastIndexOf('.'), at.lastIndexOf('['));
            at = cut < 0 ? "" : at.substring(0, cut);
        }
        return 0;
    }

    @FunctionalInterface
    public interface Problems {
        void add(String path, String message);
    }

    /** Both TLS files or neither, each a readable file; the PEM contents are checked when the listener starts. */
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
        }
    }

    /** Maps every key path (like {@code datastreams[0].orgId}) to the line it is written on. */
    private Map<String, Integer> lines(String text) {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser parser = yaml.createParser(text)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.FIELD_NAME || token == JsonToken.START_OBJECT) {
                    String path = dotted(parser.getParsingContext().pathAsPointer().toString());
                    if (token == JsonToken.FIELD_NAME) {
                        path = path.isEmpty() ? parser.currentName() : path;
                    }
                    lines.putIfAbsent(path, parser.currentTokenLocation().getLineNr());
                }
            }
        } catch (IOException e) {
            // Already parsed once; a second failure only loses line numbers.
        }
        return lines;
    }

    private static String dotted(String pointer) {
        StringBuilder out = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            if (part.chars().allMatch(Character::isDigit)) {
                out.append('[').append(part).append(']');
            } else {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(part);
            }
        }
        return out.toString();
    }

    private static String path(JsonMappingException e) {
        StringBuilder out = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (out.length() > 0) {
                    out.append('.');
                }
                out.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                out.append('[').append(ref.getIndex()).append(']');
            }
        }
        return out.toString();
    }

    /** The line the key was written on, falling back to where the parser stood. */
    private static int line(Map<String, Integer> lines, JsonMappingException e) {
        Integer line = lines.get(path(e));
        return line != null ? line : line(e.getLocation());
    }

    private static int line(JsonLocation location) {
        return location == null ? 0 : location.getLineNr();
    }
}
