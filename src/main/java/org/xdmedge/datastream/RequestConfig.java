package org.xdmedge.datastream;

import java.util.Set;

/**
 * The datastream as it applies to one request, after {@code meta.configOverrides}.
 *
 * @param dataset where this request's events go
 * @param platformEnabled false when the request turned {@code com_adobe_experience_platform} off:
 *                        nothing of it is stored, the answer is otherwise normal
 * @param disabledServices every service the request turned off, by its override key
 */
public record RequestConfig(String dataset, boolean platformEnabled, Set<String> disabledServices) {
    public static RequestConfig of(Datastream datastream) {
        return new RequestConfig(datastream.dataset(), true, Set.of());
    }
}
