package org.xdmedge.pipeline;

import java.util.List;
import java.util.Map;
import org.xdmedge.protocol.EdgeAction;

/**
 * One request as the http room hands it over: plain values only, so the pipeline can be driven
 * without a server.
 *
 * @param requestId the id this request is answered and logged under (see RequestIds)
 * @param callerRequestId the caller's own id, null if none; retries repeat it
 * @param datastreamParam the raw datastream id (any of the three parameter spellings), or null
 * @param headers request headers by lower-case name (first value), for the services that read them
 */
public record EdgeCall(EdgeAction action, String locationHint, String requestId, String callerRequestId,
                       String datastreamParam, boolean silent, List<String> cookieHeaders, Map<String, String> headers,
                       byte[] body, long receivedAtMillis) {
    public String header(String lowerCaseName) {
        return headers.get(lowerCaseName);
    }
}
