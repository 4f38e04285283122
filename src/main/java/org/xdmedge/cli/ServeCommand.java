package org.xdmedge.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.xdmedge.EdgeNode;
import org.xdmedge.StartupException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code serve}: runs the edge until SIGTERM/SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the edge server.")
public final class ServeCommand extends Task {
    @Option(names = "--host", description = "Address to listen on (default: server.host, 0.0.0.0).")
    String host;

    @Option(names = "--port", description = "Port to listen on; 0 picks a free one (default: server.port, 8080).")
    Integer port;

    @Option(names = "--tls-cert", paramLabel = "PEM",
            description = "PEM certificate chain; with --tls-key the edge speaks HTTPS (default: server.tls.certFile).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM",
            description = "PEM private key (PKCS#8 or PKCS#1) for --tls-cert (default: server.tls.keyFile).")
    Path tlsKey;

    @Option(names = "--config", description = "YAML configuration file (default: the embedded demo configuration).")
    Path config;

    @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
    Path data;

    @Override
    protected int execute() throws Exception {
        return serve();
    }

    private int serve() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        EdgeConfig loaded = config == null ? new ConfigLoader().loadDefault() : new ConfigLoader().load(config);
        EdgeConfig effective = withOptions(loaded);
        EdgeNode node = EdgeNode.start(effective, data);
        GracefulStop stop = GracefulStop.install(node::shutdown);

        String shownHost = effective.server().host();
        String scheme = node.tls() ? "https" : "http";
        out.println("xdm-edge listening on " + scheme + "://" + shownHost + ":" + node.port());
        if (config == null) {
            String local = shownHost.equals("0.0.0.0") ? "127.0.0.1" : shownHost;
            out.println("Running on the embedded default configuration (datastream 'demo' -> dataset 'events'). Send a first event:");
            out.println("  curl " + (node.tls() ? "-k " : "") + "-X POST \"" + scheme + "://" + local + ":" + node.port() + "/ee/v2/collect?datastreamId=demo\" "
                    + "-H \"Content-Type: application/json\" -d '{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\","
                    + "\"identityMap\":{\"FPID\":[{\"id\":\"79bf8e83-f708-414b-b1ed-5789ff33bf0b\",\"primary\":true}]}}}]}'");
            out.println("Then read it back:  ./xdm-edge export --data " + data);
        }
        out.flush();
        return stop.awaitStopped() ? 0 : 1;
    }

    /** The configuration with the command line's host, port and TLS files, which are checked here. */
    private EdgeConfig withOptions(EdgeConfig loaded) throws StartupException {
        var s = loaded.server();
        if (port != null && (port < 0 || port > 65535)) {
            throw new StartupException("--port " + port + " is out of range: give a port from 1 to 65535, or 0 to pick a free one",
                    StartupException.USAGE, null);
        }
        EdgeConfig.TlsConfig tls = tlsCert == null && tlsKey == null ? s.tls()
                : new EdgeConfig.TlsConfig(tlsCert == null ? null : tlsCert.toString(), tlsKey == null ? null : tlsKey.toString());
        if (tlsCert != null || tlsKey != null) {
            List<String> problems = new ArrayList<>();
            ConfigLoader.tlsProblems(tls, "--tls-cert", "--tls-key", (option, message) -> problems.add(option + " " + message));
            if (!problems.isEmpty()) {
                throw new StartupException("cannot start the HTTPS listener: " + String.join("; ", problems),
                        StartupException.USAGE, null);
            }
        }
        return loaded.withServer(s.with(host != null ? host : s.host(), port != null ? port : s.port(), tls));
    }
}
