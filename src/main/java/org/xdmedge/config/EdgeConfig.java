package org.xdmedge.config;

import java.util.List;

/**
 * The whole configuration, as read from YAML. Every record applies its defaults in its compact
 * constructor, so a missing section means "all defaults" and the reference values live in one place.
 */
public record EdgeConfig(ServerConfig server, StorageConfig storage, List<OrganizationConfig> organizations,
                         List<DatastreamConfig> datastreams) {
    public EdgeConfig {
        server = server == null ? new ServerConfig(null, null, null, null, null) : server;
        storage = storage == null ? new StorageConfig(null, null, null) : storage;
        organizations = organizations == null ? List.of() : List.copyOf(organizations);
        datastreams = datastreams == null ? List.of() : List.copyOf(datastreams);
    }

    /** {@code server:} the HTTP listener and protocol limits. */
    public record ServerConfig(String host, Integer port, String region, Integer maxRequestBytes,
                               Integer eventLoops) {
        public ServerConfig {
            host = host == null ? "0.0.0.0" : host;
            port = port == null ? 8080 : port;
            region = region == null ? "or2" : region;
            maxRequestBytes = maxRequestBytes == null ? 65536 : maxRequestBytes;
            eventLoops = eventLoops == null ? Runtime.getRuntime().availableProcessors() : eventLoops;
        }
    }

    /** {@code storage:} the embedded SQLite store and its writer queue. */
    public record StorageConfig(Integer queueCapacity, Integer maxRequestsPerCommit, Integer retryAfterSeconds) {
        public StorageConfig {
            queueCapacity = queueCapacity == null ? 4096 : queueCapacity;
            maxRequestsPerCommit = maxRequestsPerCommit == null ? 512 : maxRequestsPerCommit;
            retryAfterSeconds = retryAfterSeconds == null ? 1 : retryAfterSeconds;
        }
    }

    /** {@code organizations[]}: an IMS organization that owns datastreams. */
    public record OrganizationConfig(String id) {}

    /** {@code datastreams[]}: what a client names with its datastream id. */
    public record DatastreamConfig(String id, String orgId, Boolean enabled, String dataset) {
        public DatastreamConfig {
            enabled = enabled == null ? Boolean.TRUE : enabled;
        }
    }
}
