package org.xdmedge.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
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
        EdgeConfig effective = loaded.withServer(new EdgeConfig.ServerConfig(host != null ? host : s.host(),
                port != null ? port : s.port(), s.region(), s.maxRequestBytes(), s.eventLoops()));

        EdgeNode node = EdgeNode.start(effective, data);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "xdm-edge-shutdown"));

        String shownHost = effective.server().host();
        out.println("xdm-edge listening on http://" + shownHost + ":" + node.port());
        if (config == null) {
            String local = shownHost.equals("0.0.0.0") ? "127.0.0.1" : shownHost;
            out.println("Running on the embedded default configuration (datastream 'demo' -> dataset 'events'). Send a first event:");
            out.println("  curl -X POST \"http://" + local + ":" + node.port() + "/ee/v2/collect?datastreamId=demo\" "
                    + "-H \"Content-Type: application/json\" -d '{\"events\":[{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\","
                    + "\"identityMap\":{\"FPID\":[{\"id\":\"79bf8e83-f708-414b-b1ed-5789ff33bf0b\",\"primary\":true}]}}}]}'");
            out.println("Then read it back:  ./xdm-edge export --data " + data);
        }
        out.flush();
        stopped.await();
        return 0;
    }
}
