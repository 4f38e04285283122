package org.xdmedge.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the request bodies of the benchmark scenarios into a directory: a ~1.5 KB XDM page-view
 * event (as alloy and server integrations send them), batches of it (one with an {@code {ID}}
 * placeholder for each event's {@code _id}), and interact bodies.
 * Usage: {@code Bodies DIR [IDENTITY_STATE]}; with an identity state value, also the returning
 * visitor body.
 */
public final class Bodies {
    static final String IDENTITY_KEY = "kndctr_53A16ACB5CC1D3760A495C99_AdobeOrg_identity";

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        String fpidEvent = event(true);
        write(dir, "collect-1.json", "{\"events\":[" + fpidEvent + "]}");
        write(dir, "collect-50.json", "{\"events\":[" + String.join(",", java.util.Collections.nCopies(50, fpidEvent)) + "]}");
        // Client-made ids, as alloy sends them: bench/wrk/post.lua puts a random UUIDv4 in each {ID}.
        String withId = "{\"xdm\":{\"_id\":\"{ID}\"," + fpidEvent.substring("{\"xdm\":{".length());
        write(dir, "collect-50-client-ids.json", "{\"events\":[" + String.join(",", java.util.Collections.nCopies(50, withId)) + "]}");
        String query = "\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}";
        write(dir, "interact-new.json", "{\"event\":" + event(false) + "," + query + "}");
        String meta = "\"meta\":{\"state\":{\"domain\":\"shop.test\",\"cookiesEnabled\":true%s}}";
        write(dir, "v1-interact.json", "{\"events\":[" + event(false) + "]," + query + "," + meta.formatted("") + "}");
        if (args.length > 1) {
            String entries = ",\"entries\":[{\"key\":\"" + IDENTITY_KEY + "\",\"value\":\"" + args[1] + "\"}]";
            write(dir, "interact-returning.json", "{\"event\":" + event(false) + "," + query + "," + meta.formatted(entries) + "}");
        }
    }

    /** One page view of about 1.5 KB; server batches carry an FPID marked primary, browsers rely on the ECID. */
    static String event(boolean fpid) {
        String identity = fpid ? "\"identityMap\":{\"FPID\":[{\"id\":\"79bf8e83-f708-414b-b1ed-5789ff33bf0b\","
                + "\"authenticatedState\":\"ambiguous\",\"primary\":true}]}," : "";
        return "{\"xdm\":{" + identity
                + "\"eventType\":\"web.webpagedetails.pageViews\","
                + "\"web\":{\"webPageDetails\":{\"URL\":\"https://shop.example.test/collections/summer/products/linen-shirt-blue?variant=4412&utm_source=newsletter&utm_medium=email\","
                + "\"name\":\"Products | Linen shirt, blue\",\"siteSection\":\"collections/summer\",\"pageViews\":{\"value\":1}},"
                + "\"webReferrer\":{\"URL\":\"https://shop.example.test/collections/summer?page=2&sort=price-ascending\",\"type\":\"internal\"}},"
                + "\"device\":{\"screenHeight\":1080,\"screenWidth\":1920,\"screenOrientation\":\"landscape\",\"type\":\"desktop\"},"
                + "\"environment\":{\"type\":\"browser\",\"browserDetails\":{\"viewportWidth\":1903,\"viewportHeight\":947,"
                + "\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\","
                + "\"javaScriptEnabled\":true,\"cookiesEnabled\":true,\"acceptLanguage\":\"en-GB,en;q=0.9\"}},"
                + "\"placeContext\":{\"localTime\":\"2026-11-22T10:15:30.123+01:00\",\"localTimezoneOffset\":-60},"
                + "\"commerce\":{\"productViews\":{\"value\":1}},"
                + "\"productListItems\":[{\"SKU\":\"LS-4412-BL-M\",\"name\":\"Linen shirt, blue, M\",\"quantity\":1,\"priceTotal\":59.9,"
                + "\"currencyCode\":\"EUR\",\"productCategories\":[{\"categoryID\":\"summer\",\"schema\":\"category\"}]}],"
                + "\"marketing\":{\"trackingCode\":\"nl-2026-11\",\"campaignGroup\":\"newsletter\"},"
                + "\"implementationDetails\":{\"name\":\"https://ns.adobe.com/experience/alloy\",\"version\":\"2.33.1\",\"environment\":\"browser\"}},"
                + "\"data\":{\"__adobe\":{\"analytics\":{\"eVar1\":\"linen\",\"prop3\":\"summer\",\"events\":\"prodView\"}},"
                + "\"shop\":{\"cartSize\":2,\"loggedIn\":false,\"segment\":\"returning-buyer\",\"experiment\":\"pdp-gallery-b\"}}}";
    }

    private static void write(Path dir, String name, String body) throws java.io.IOException {
        Files.writeString(dir.resolve(name), body, StandardCharsets.UTF_8);
    }
}
