package org.xdmedge.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import org.xdmedge.config.ConfigCheck;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.config.EdgeConfig.OrganizationConfig;

/** Each organization's {@code auth.jwksFile} holds keys this edge can verify tokens with. */
public final class JwksFileCheck implements ConfigCheck {
    @Override
    public void check(EdgeConfig config, BiConsumer<String, String> problem) {
        for (int i = 0; i < config.organizations().size(); i++) {
            OrganizationConfig org = config.organizations().get(i);
            if (org == null || org.auth() == null || org.auth().jwksFile() == null) {
                continue;
            }
            Path file = Path.of(org.auth().jwksFile());
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                continue; // the loader reports a file it cannot read
            }
            try {
                JwksKeys.parseStrict(Files.readString(file, StandardCharsets.UTF_8));
            } catch (IOException | IllegalArgumentException e) {
                problem.accept("organizations[" + i + "].auth.jwksFile", file + ": " + e.getMessage());
            }
        }
    }
}
