package org.xdmedge.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration, as read from YAML. Every record applies its defaults in its compact
 * constructor, so a missing section means "all defaults" and the reference values live in one place.
 */
public record EdgeConfig(ServerConfig server, StorageConfig storage, List<OrganizationConfig> organizations,
                         List<DatastreamConfig> datastreams, IdentityConfig identity, List<DatasetConfig> datasets,
                         StateConfig state, List<DestinationConfig> destinations,
                         ForwardingConfig forwarding, PrivacyConfig privacy) {
    public EdgeConfig {
        destinations = destinations == null ? List.of() : List.copyOf(destinations);
        forwarding = forwarding == null ? new ForwardingConfig(null, null) : forwarding;
        privacy = privacy == null ? PrivacyConfig.defaults() : privacy;
        identity = identity == null ? IdentityConfig.defaults() : identity;
        server = server == null ? new ServerConfig(null, null, null, null, null) : server;
        storage = storage == null ? new StorageConfig(null, null, null, null, null, null, null, null) : storage;
        organizations = organizations == null ? List.of() : List.copyOf(organizations);
        datastreams = datastreams == null ? List.of() : List.copyOf(datastreams);
        datasets = datasets == null ? List.of() : List.copyOf(datasets);
        state = state == null ? new StateConfig(null, null) : state;
    }

    public EdgeConfig(ServerConfig server, StorageConfig storage, List<OrganizationConfig> organizations,
                      List<DatastreamConfig> datastreams, IdentityConfig identity, List<DatasetConfig> datasets,
                      StateConfig state) {
        this(server, storage, organizations, datastreams, identity, datasets, state, null, null, null);
    }

    public EdgeConfig(ServerConfig server, StorageConfig storage, List<OrganizationConfig> organizations,
                      List<DatastreamConfig> datastreams, IdentityConfig identity) {
        this(server, storage, organizations, datastreams, identity, null, null);
    }

    public EdgeConfig(ServerConfig server, StorageConfig storage, List<OrganizationConfig> organizations,
                      List<DatastreamConfig> datastreams) {
        this(server, storage, organizations, datastreams, null);
    }

    /** The same configuration with other organizations (key file paths made absolute). */
    public EdgeConfig withOrganizations(List<OrganizationConfig> newOrganizations) {
        return new EdgeConfig(server, storage, newOrganizations, datastreams, identity, datasets, state, destinations, forwarding, privacy);
    }

    /** The same configuration with other datasets (file paths in their settings made absolute). */
    public EdgeConfig withDatasets(List<DatasetConfig> newDatasets) {
        return new EdgeConfig(server, storage, organizations, datastreams, identity, newDatasets, state, destinations, forwarding, privacy);
    }

    /** The same configuration with other datastreams (file paths made absolute). */
    public EdgeConfig withDatastreams(List<DatastreamConfig> newDatastreams) {
        return new EdgeConfig(server, storage, organizations, newDatastreams, identity, datasets, state, destinations, forwarding, privacy);
    }

    /** The same configuration with another listener (command-line and test overrides). */
    public EdgeConfig withServer(ServerConfig newServer) {
        return new EdgeConfig(newServer, storage, organizations, datastreams, identity, datasets, state, destinations, forwarding, privacy);
    }

    /**
     * {@code server:} the HTTP listener and protocol limits. {@code requestTimeoutSeconds} bounds how
     * long one request (head and body) may take to arrive, {@code maxConnections} how many
     * connections are open at once; {@code http2Cleartext} turns on HTTP/2 without TLS (h2c).
     */
    public record ServerConfig(String host, Integer port, String region, Integer maxRequestBytes,
                               Integer eventLoops, TlsConfig tls, Integer shutdownGraceSeconds,
                               Integer requestTimeoutSeconds, Integer maxConnections, Boolean http2Cleartext) {
        public ServerConfig(String host, Integer port, String region, Integer maxRequestBytes, Integer eventLoops) {
            this(host, port, region, maxRequestBytes, eventLoops, null, null);
        }

        public ServerConfig(String host, Integer port, String region, Integer maxRequestBytes, Integer eventLoops,
                            TlsConfig tls) {
            this(host, port, region, maxRequestBytes, eventLoops, tls, null);
        }

        public ServerConfig(String host, Integer port, String region, Integer maxRequestBytes, Integer eventLoops,
                            TlsConfig tls, Integer shutdownGraceSeconds) {
            this(host, port, region, maxRequestBytes, eventLoops, tls, shutdownGraceSeconds, null, null, null);
        }

        public ServerConfig {
            host = host == null ? "0.0.0.0" : host;
            port = port == null ? 8080 : port;
            region = region == null ? "or2" : region;
            maxRequestBytes = maxRequestBytes == null ? 65536 : maxRequestBytes;
            eventLoops = eventLoops == null ? Runtime.getRuntime().availableProcessors() : eventLoops;
            tls = tls == null ? new TlsConfig(null, null) : tls;
            shutdownGraceSeconds = shutdownGraceSeconds == null ? 30 : shutdownGraceSeconds;
            requestTimeoutSeconds = requestTimeoutSeconds == null ? 30 : requestTimeoutSeconds;
            maxConnections = maxConnections == null ? 10_000 : maxConnections;
            http2Cleartext = http2Cleartext != null && http2Cleartext;
        }

        /** The same listener with another host, port or TLS files (command-line overrides, tests). */
        public ServerConfig with(String newHost, Integer newPort, TlsConfig newTls) {
            return new ServerConfig(newHost, newPort, region, maxRequestBytes, eventLoops, newTls, shutdownGraceSeconds,
                    requestTimeoutSeconds, maxConnections, http2Cleartext);
        }
    }

    /**
     * {@code server.tls:} PEM certificate chain and private key; both set switches the listener to
     * HTTPS (the Web SDK only calls https URLs), neither leaves it plain HTTP for a TLS proxy.
     */
    public record TlsConfig(String certFile, String keyFile) {
        public boolean enabled() {
            return certFile != null || keyFile != null;
        }
    }

    /**
     * {@code storage:} the embedded store, its writer queue and its retention; {@code minFreeBytes}
     * unset: the store's own floor (one 64 MiB segment). {@code writerHandOver} ({@code auto}: on a
     * one-CPU JVM, {@code off}) and {@code zerosAhead} switch the writer's two disk-and-CPU tunings.
     */
    public record StorageConfig(Integer queueCapacity, Integer maxRequestsPerCommit, Integer retryAfterSeconds,
                                RetentionConfig retention, Long minFreeBytes, String compression,
                                String writerHandOver, Boolean zerosAhead) {
        /** The values {@code compression} takes ({@code store.FramePacking}'s names). */
        public static final List<String> COMPRESSIONS = List.of("lz4", "zstd", "none");
        /** The values {@code writerHandOver} takes. */
        public static final List<String> HAND_OVERS = List.of("auto", "off");

        public StorageConfig {
            queueCapacity = queueCapacity == null ? 4096 : queueCapacity;
            maxRequestsPerCommit = maxRequestsPerCommit == null ? 512 : maxRequestsPerCommit;
            retryAfterSeconds = retryAfterSeconds == null ? 1 : retryAfterSeconds;
            retention = retention == null ? new RetentionConfig(null, null) : retention;
            compression = compression == null ? "lz4" : compression;
            writerHandOver = writerHandOver == null ? "auto" : writerHandOver;
            zerosAhead = zerosAhead == null || zerosAhead;
        }
    }

    /**
     * {@code storage.retention:} the oldest event segments are deleted while the events take more
     * than {@code maxBytes} or were written more than {@code maxAgeHours} ago; unset, everything is kept.
     */
    public record RetentionConfig(Long maxBytes, Integer maxAgeHours) {
        public long maxBytesOrZero() {
            return maxBytes == null ? 0 : maxBytes;
        }

        public Duration maxAge() {
            return maxAgeHours == null ? null : Duration.ofHours(maxAgeHours);
        }
    }

    /**
     * {@code organizations[]}: an IMS organization that owns datastreams. {@code fpidSecret}, when set,
     * keys this organization's FPID-to-ECID hash instead of {@code identity.fpidSecret}.
     * {@code apiKeys} are the client ids its server callers send as {@code x-api-key}, {@code auth}
     * how their tokens are verified, {@code rateLimit} a bucket shared by all its datastreams.
     */
    public record OrganizationConfig(String id, String fpidSecret, List<String> apiKeys, AuthConfig auth,
                                     RateLimitConfig rateLimit) {
        public OrganizationConfig {
            apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
        }

        public OrganizationConfig(String id, String fpidSecret) {
            this(id, fpidSecret, null, null, null);
        }

        public OrganizationConfig(String id) {
            this(id, null);
        }

        /** The same organization with other verification settings. */
        public OrganizationConfig withAuth(AuthConfig newAuth) {
            return new OrganizationConfig(id, fpidSecret, apiKeys, newAuth, rateLimit);
        }
    }

    /**
     * {@code datastreams[]}: what a client names with its datastream id. {@code allowedDatasets} are
     * the datasets a request may pick with {@code meta.configOverrides}; {@code fpidCookie} names the
     * first-party cookie that carries an FPID; {@code accessType} who may call it (default
     * {@code mixed}); {@code rateLimit} its own token bucket; {@code cookieDomain} the first-party
     * domain on which state items also go out as {@code Set-Cookie}; {@code personalization} its
     * activities; {@code schema}, {@code mapping} and {@code invalidEvents} how its events are checked
     * and what becomes of one that fails ({@code quarantine} or {@code reject}); {@code forwardTo} the
     * destinations its stored events are forwarded to.
     */
    public record DatastreamConfig(String id, String orgId, Boolean enabled, String dataset,
                                   ConsentConfig consent, List<String> allowedDatasets, String fpidCookie,
                                   AccessType accessType, RateLimitConfig rateLimit, String cookieDomain,
                                   PersonalizationConfig personalization,
                                   String schema, List<MappingRuleConfig> mapping, String invalidEvents,
                                   List<ForwardTo> forwardTo) {
        public DatastreamConfig {
            forwardTo = forwardTo == null ? List.of() : List.copyOf(forwardTo);
            enabled = enabled == null ? Boolean.TRUE : enabled;
            consent = consent == null ? ConsentConfig.defaults() : consent;
            allowedDatasets = allowedDatasets == null ? List.of() : List.copyOf(allowedDatasets);
            accessType = accessType == null ? AccessType.MIXED : accessType;
            // Not List.copyOf: a rule list may hold nulls, which the checks report by index.
            mapping = mapping == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(mapping));
            invalidEvents = invalidEvents == null ? "quarantine" : invalidEvents;
        }

        /** The same datastream with another personalization block. */
        public DatastreamConfig withPersonalization(PersonalizationConfig p) {
            return new DatastreamConfig(id, orgId, enabled, dataset, consent, allowedDatasets, fpidCookie, accessType,
                    rateLimit, cookieDomain, p, schema, mapping, invalidEvents, forwardTo);
        }

        /** The same datastream reading its schema from {@code file}. */
        public DatastreamConfig withSchema(String file) {
            return new DatastreamConfig(id, orgId, enabled, dataset, consent, allowedDatasets, fpidCookie, accessType,
                    rateLimit, cookieDomain, personalization, file, mapping, invalidEvents, forwardTo);
        }
    }

    /**
     * {@code datasets[]}: where a dataset's events go. Datasets not listed go to the embedded event
     * store ({@code outlet: embedded}).
     */
    public record DatasetConfig(String name, String outlet, KafkaOutletConfig kafka) {
        public static final String EMBEDDED = "embedded";
        public static final String KAFKA = "kafka";

        public DatasetConfig {
            outlet = outlet == null ? EMBEDDED : outlet;
        }
    }

    /**
     * {@code datasets[].kafka}: the Kafka outlet. {@code topic} may contain {@code {dataset}} and
     * {@code {datastreamId}}; {@code producer} holds further Kafka producer settings.
     */
    public record KafkaOutletConfig(String bootstrapServers, String topic, Map<String, Object> producer,
                                    Integer responseTimeoutMs, Integer queueCapacity,
                                    Integer maxRequestsPerTransaction, String transactionalIdPrefix,
                                    Integer retryAfterSeconds, Integer senders) {
        public KafkaOutletConfig {
            senders = senders == null ? 2 : senders;
            producer = producer == null ? Map.of() : Map.copyOf(producer);
            responseTimeoutMs = responseTimeoutMs == null ? 15000 : responseTimeoutMs;
            queueCapacity = queueCapacity == null ? 4096 : queueCapacity;
            maxRequestsPerTransaction = maxRequestsPerTransaction == null ? 256 : maxRequestsPerTransaction;
            transactionalIdPrefix = transactionalIdPrefix == null ? "xdm-edge" : transactionalIdPrefix;
            retryAfterSeconds = retryAfterSeconds == null ? 2 : retryAfterSeconds;
        }

        /** The same outlet with other producer settings. */
        public KafkaOutletConfig withProducer(Map<String, Object> newProducer) {
            return new KafkaOutletConfig(bootstrapServers, topic, newProducer, responseTimeoutMs, queueCapacity,
                    maxRequestsPerTransaction, transactionalIdPrefix, retryAfterSeconds, senders);
        }
    }

    /**
     * {@code state:} state that must agree across nodes (event id dedup, per-identity state). In
     * SQLite beside the events unless {@code redis} is set.
     */
    public record StateConfig(RedisConfig redis, DedupConfig dedup) {
        public StateConfig {
            dedup = dedup == null ? new DedupConfig(null, null) : dedup;
        }
    }

    /** {@code state.redis}: a Redis server shared by all nodes. */
    public record RedisConfig(String url, Integer timeoutMs, String keyPrefix, Integer identityStateTtlDays) {
        public RedisConfig {
            timeoutMs = timeoutMs == null ? 2000 : timeoutMs;
            keyPrefix = keyPrefix == null ? "xdmedge:" : keyPrefix;
            identityStateTtlDays = identityStateTtlDays == null ? 390 : identityStateTtlDays;
        }
    }

    /**
     * {@code state.dedup}: how long an event {@code _id} is remembered once stored
     * ({@code windowSeconds}), and how long a claim of a node that may have died blocks retries
     * ({@code pendingSeconds}).
     */
    public record DedupConfig(Integer windowSeconds, Integer pendingSeconds) {
        public DedupConfig {
            windowSeconds = windowSeconds == null ? 86400 : windowSeconds;
            pendingSeconds = pendingSeconds == null ? 120 : pendingSeconds;
        }
    }
}
