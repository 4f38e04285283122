package org.xdmedge.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.xdmedge.EdgeNode;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code serve}: runs the edge until SIGTERM/SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the edge server.")
public final class ServeCommand implements Callable<Integer> {
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

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EdgeConfig loaded;
        try {
            loaded = config == null ? new ConfigLoader().loadDefault() : new ConfigLoader().load(config);
        } catch (ConfigException e) {
            err.println("xdm-edge: " + e.getMessage());
            err.flush();
            return 2;
        }
        var s = loaded.server();
        EdgeConfig.TlsConfig tls = tlsCert == null && tlsKey == null ? s.tls()
                : new EdgeConfig.TlsConfig(tlsCert == null ? null : tlsCert.toString(), tlsKey == null ? null : tlsKey.toString());
        java.util.List<String> tlsProblems = new java.util.ArrayList<>();
        ConfigLoader.tlsProblems(tls, "--tls-cert", "--tls-key", (option, message) -> tlsProblems.add(option + " " + message));
        if (!tlsProblems.isEmpty()) {
            err.println("xdm-edge: " + String.join("; ", tlsProblems));
            err.flush();
            return 2;
        }
        EdgeConfig effective = loaded.withServer(s.with(host != null ? host : s.host(), port != null ? port : s.port(), tls));

        EdgeNode node;
        try {
            node = EdgeNode.start(effective, data);
        } catch (Exception e) {
            if (!tls.enabled()) {
                throw e;
            }
            // Most often an unreadable or mismatched PEM pair: say so instead of a stack trace.
            err.println("xdm-edge: cannot start the HTTPS listener with " + tls.certFile() + " and " + tls.keyFile()
                    + ": " + e.getMessage());
            err.flush();
            return 2;
        }
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
}
