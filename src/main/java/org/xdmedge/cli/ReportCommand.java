package org.xdmedge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.PersonalizationConfig;
import org.xdmedge.personalization.ActivitiesException;
import org.xdmedge.personalization.ActivitiesLoader;
import org.xdmedge.personalization.ExperimentReport;
import org.xdmedge.protocol.EdgeJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code report}: the results of the activities, read from the embedded store; works beside a running server. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Print per activity and experience: visitors, displays, clicks, conversions, conversion rate "
                + "with its 95% interval, and the lift against the first experience with its p-value.")
public final class ReportCommand extends Task {
    @Option(names = "--data", defaultValue = "./data", description = "Directory of the embedded store (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--datastream", paramLabel = "ID", description = "Only events of this datastream.")
    String datastream;

    @Option(names = "--format", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--config", description = "The edge's YAML configuration: experiences in the order written "
            + "(the first is the baseline) and the datastream's conversion.eventType.")
    Path config;

    @Option(names = "--conversion-event-type", paramLabel = "TYPE",
            description = "The event type that counts as a conversion (default: the datastream's conversion.eventType, "
                    + "else commerce.purchases).")
    String conversionEventType;

    @Override
    protected int execute() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!format.equals("table") && !format.equals("json")) {
            err.println("xdm-edge report: --format must be table or json");
            err.flush();
            return 2;
        }
        String conversion = conversionEventType;
        Map<String, List<String>> order = new HashMap<>();
        if (config != null) {
            try {
                EdgeConfig loaded = new ConfigLoader().load(config);
                for (var ds : loaded.datastreams()) {
                    if (ds.personalization() == null || (datastream != null && !datastream.equals(ds.id()))) {
                        continue;
                    }
                    PersonalizationConfig p = ds.personalization();
                    if (conversion == null && datastream != null) {
                        conversion = p.conversion().eventType();
                    }
                    var activities = p.activitiesFile() != null
                            ? new ActivitiesLoader().readFile(Path.of(p.activitiesFile())) : p.activities();
                    activities.forEach(a -> order.putIfAbsent(a.id(),
                            a.experiences().stream().map(PersonalizationConfig.ExperienceConfig::id).toList()));
                }
            } catch (ConfigException | ActivitiesException e) {
                err.println("xdm-edge report: " + e.getMessage());
                err.flush();
                return 2;
            }
        }
        ObjectNode report;
        try {
            report = ExperimentReport.run(data, datastream,
                    conversion != null ? conversion : PersonalizationConfig.ConversionConfig.DEFAULT_EVENT_TYPE, order);
        } catch (IOException e) {
            err.println("xdm-edge report: " + e.getMessage());
            err.flush();
            return 1;
        }
        if (format.equals("json")) {
            out.println(EdgeJson.MAPPER.writeValueAsString(report));
        } else {
            table(report, out);
        }
        out.flush();
        return 0;
    }

    private static void table(JsonNode report, PrintWriter out) {
        String row = "%-20s %-12s %9s %9s %8s %11s %8s  %-17s %8s %8s%n";
        out.printf(Locale.ROOT, row, "activity", "experience", "visitors", "displays", "clicks", "conversions", "rate",
                "95% interval", "lift", "p-value");
        for (JsonNode a : report.path("activities")) {
            for (JsonNode x : a.path("experiences")) {
                out.printf(Locale.ROOT, row, a.path("id").asText(), x.path("id").asText(), x.path("visitors").asText(),
                        x.path("displays").asText(), x.path("clicks").asText(), x.path("conversions").asText(),
                        percent(x.path("conversionRate")),
                        "[" + percent(x.path("interval").path(0)) + ", " + percent(x.path("interval").path(1)) + "]",
                        x.path("lift").isNull() ? "-" : String.format(Locale.ROOT, "%+.1f%%", x.path("lift").asDouble() * 100),
                        x.path("pValue").isNull() ? "-" : String.format(Locale.ROOT, "%.3f%s", x.path("pValue").asDouble(),
                                x.path("significant").asBoolean() ? "*" : ""));
            }
        }
        out.printf(Locale.ROOT, "%d events read; conversions: %s after a display; * p < 0.05%n",
                report.path("events").asLong(), report.path("conversionEventType").asText());
    }

    private static String percent(JsonNode v) {
        return String.format(Locale.ROOT, "%.2f%%", v.asDouble() * 100);
    }
}
