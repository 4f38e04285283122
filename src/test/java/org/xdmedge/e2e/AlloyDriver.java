package org.xdmedge.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.xdmedge.protocol.EdgeJson;

/**
 * Runs one scenario in Debian's Chromium with the real Web SDK, through {@code src/test/e2e/drive.mjs}
 * (playwright-core), and hands back what the page saw: one result per step and every edge request
 * with the headers Chromium really sent.
 */
final class AlloyDriver {
    static final Path E2E_DIR = Path.of("src", "test", "e2e").toAbsolutePath();
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path ALLOY_SCRIPT = E2E_DIR.resolve("node_modules/@adobe/alloy/dist/alloy.js");
    static final Path PLAYWRIGHT = E2E_DIR.resolve("node_modules/playwright-core/package.json");

    private final String hostRules;
    private final Path workDir;
    private int runs;

    AlloyDriver(String hostRules, Path workDir) {
        this.hostRules = hostRules;
        this.workDir = workDir;
    }

    /** Why the end-to-end tests cannot run here, or null when they can. */
    static String missingPrerequisite() {
        if (!Files.isExecutable(CHROMIUM)) {
            return "Debian's chromium is not installed at " + CHROMIUM + " (apt-get install -y chromium)";
        }
        if (!Files.isRegularFile(ALLOY_SCRIPT) || !Files.isRegularFile(PLAYWRIGHT)) {
            return "npm packages are missing under " + E2E_DIR + " (run: npm ci --prefix src/test/e2e)";
        }
        if (findNode() == null) {
            return "node is not on the PATH";
        }
        return null;
    }

    private static String findNode() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path node = Path.of(dir, "node");
            if (Files.isExecutable(node)) {
                return node.toString();
            }
        }
        return null;
    }

    /** The outcome of one scenario. */
    record Run(JsonNode raw, String stderr) {
        JsonNode result(int step) {
            return raw.path("results").path(step);
        }

        /** The resolved value of an alloy step, failing with the page's console when it was rejected. */
        JsonNode value(int step) {
            JsonNode r = result(step);
            if (!r.has("value")) {
                throw new AssertionError("step " + step + " did not resolve: " + r + "\n" + diagnostics());
            }
            return r.get("value");
        }

        List<JsonNode> requests(String pathPart) {
            List<JsonNode> out = new ArrayList<>();
            raw.path("requests").forEach(r -> {
                if (r.path("url").asText().contains(pathPart)) {
                    out.add(r);
                }
            });
            return out;
        }

        List<JsonNode> requests() {
            return requests("/ee/");
        }

        String diagnostics() {
            StringBuilder b = new StringBuilder("--- page console ---\n");
            raw.path("console").forEach(c -> b.append(c.asText()).append('\n'));
            b.append("--- page errors ---\n").append(raw.path("pageErrors")).append('\n');
            b.append("--- edge requests ---\n");
            raw.path("requests").forEach(r -> b.append(r.path("method").asText()).append(' ').append(r.path("url").asText())
                    .append(" -> ").append(r.path("status").asText(r.path("failure").asText())).append('\n'));
            if (raw.has("unfinishedRequests")) {
                b.append("--- edge requests still unfinished at the end: ").append(raw.get("unfinishedRequests")).append('\n');
            }
            b.append("--- driver stderr ---\n").append(stderr);
            return b.toString();
        }
    }

    Run run(List<Map<String, Object>> steps) throws Exception {
        int n = ++runs;
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("chromium", CHROMIUM.toString());
        plan.put("hostRules", hostRules);
        plan.put("steps", steps);
        Path planFile = workDir.resolve("plan-" + n + ".json");
        Path stdout = workDir.resolve("out-" + n + ".json");
        Path stderr = workDir.resolve("err-" + n + ".txt");
        Files.write(planFile, EdgeJson.MAPPER.writeValueAsBytes(plan));
        Process p = new ProcessBuilder(findNode(), E2E_DIR.resolve("drive.mjs").toString(), planFile.toString())
                .directory(E2E_DIR.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .start();
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("the browser scenario did not finish in 150 s: " + Files.readString(stderr));
        }
        String err = Files.readString(stderr, StandardCharsets.UTF_8);
        String text = Files.readString(stdout, StandardCharsets.UTF_8);
        if (p.exitValue() != 0 || text.isBlank()) {
            throw new AssertionError("drive.mjs exited " + p.exitValue() + "\n" + err + "\n" + text);
        }
        JsonNode raw = EdgeJson.MAPPER.readTree(text);
        Run run = new Run(raw, err);
        if (raw.has("error")) {
            throw new AssertionError("the scenario failed in the browser: " + raw.get("error").asText() + "\n" + run.diagnostics());
        }
        return run;
    }

    static Map<String, Object> step(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static Map<String, Object> gotoPage(String url) {
        return step("do", "goto", "url", url);
    }

    static Map<String, Object> reload() {
        return step("do", "reload");
    }

    static Map<String, Object> cookies() {
        return step("do", "cookies");
    }

    /** The innerHTML of the first element {@code selector} finds, null when none. */
    static Map<String, Object> html(String selector) {
        return step("do", "html", "selector", selector);
    }

    static Map<String, Object> pause(int ms) {
        return step("do", "pause", "ms", ms);
    }

    static Map<String, Object> alloy(String command, Object options) {
        return step("do", "alloy", "command", command, "options", options);
    }

    /** Starts a command without waiting for it; {@link #awaitStarted} collects it later. */
    static Map<String, Object> startAlloy(String name, String command, Object options) {
        return step("do", "alloy", "command", command, "options", options, "start", name);
    }

    static Map<String, Object> awaitStarted(String name, int timeoutMs) {
        return step("do", "await", "name", name, "timeoutMs", timeoutMs);
    }
}
