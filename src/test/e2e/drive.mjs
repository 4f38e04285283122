// Drives Debian's Chromium (never a downloaded browser) through one scenario written by
// AlloyEndToEndTest, and prints what happened as one JSON document on stdout.
//
//   node drive.mjs <plan.json>
//
// plan: { chromium, hostRules, steps: [...] } where a step is one of
//   {do: "goto", url}                       load a page (waits for the load event)
//   {do: "reload"}                          reload the current page
//   {do: "alloy", command, options}         run an alloy command and wait for its promise
//   {do: "alloy", command, options, start}  start it and keep the promise under the name `start`
//   {do: "await", name, timeoutMs}          wait for a started command (reports {timedOut} if it did not settle)
//   {do: "pause", ms}                       let the page run (only used to show that nothing happens)
//   {do: "cookies"}                         document.cookie as the page sees it
//   {do: "html", selector}                  innerHTML of the first element the selector finds (null: none)
// Every step's outcome is in `results`; every request to an edge host (fetch and sendBeacon) is in
// `requests`, with the headers Chromium really sent (cookies included) and the answer.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const hardStop = setTimeout(() => {
  console.error("drive.mjs: scenario did not finish in 100 s");
  process.exit(3);
}, 100_000);

const browser = await chromium.launch({
  executablePath: plan.chromium || "/usr/bin/chromium",
  headless: true,
  timeout: 60_000,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--ignore-certificate-errors",
    `--host-resolver-rules=${plan.hostRules}`,
  ],
});

const out = { results: [], requests: [], console: [], pageErrors: [] };
const pending = [];
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on("console", (m) => out.console.push(`${m.type()}: ${m.text()}`.slice(0, 2000)));
  page.on("pageerror", (e) => out.pageErrors.push(String(e)));
  const isEdge = (url) => new URL(url).pathname.startsWith("/ee/");
  const record = async (request, failure) => {
    const entry = {
      url: request.url(),
      method: request.method(),
      resourceType: request.resourceType(),
      headers: await request.allHeaders().catch(() => ({})),
      body: request.postData(),
    };
    if (failure) {
      entry.failure = failure;
    } else {
      const response = await request.response().catch(() => null);
      if (response) {
        entry.status = response.status();
        entry.responseHeaders = await response.allHeaders().catch(() => ({}));
        entry.responseBody = await response.text().catch(() => null);
      }
    }
    out.requests.push(entry);
  };
  let inFlight = 0;
  page.on("request", (r) => { if (isEdge(r.url())) inFlight++; });
  page.on("requestfinished", (r) => { if (isEdge(r.url())) { inFlight--; pending.push(record(r)); } });
  page.on("requestfailed", (r) => { if (isEdge(r.url())) { inFlight--; pending.push(record(r, r.failure()?.errorText || "failed")); } });

  for (const step of plan.steps) {
    let result = null;
    switch (step.do) {
      case "goto":
        await page.goto(step.url, { waitUntil: "load" });
        break;
      case "reload":
        await page.reload({ waitUntil: "load" });
        break;
      case "pause":
        await page.waitForTimeout(step.ms);
        break;
      case "cookies":
        result = await page.evaluate(() => document.cookie);
        break;
      case "html":
        result = await page.evaluate((selector) => {
          const element = document.querySelector(selector);
          return element ? element.innerHTML : null;
        }, step.selector);
        break;
      case "alloy":
        result = await page.evaluate(({ command, options, start }) => {
          const settle = (p) => p.then(
            (value) => ({ value: value === undefined ? null : value }),
            (e) => ({ error: String((e && e.message) || e), code: (e && e.code) || null }));
          window.__started = window.__started || {};
          const p = settle(window.alloy(command, options || {}));
          if (start) {
            window.__started[start] = p;
            return { started: start };
          }
          return p;
        }, step);
        break;
      case "await":
        result = await page.evaluate(({ name, timeoutMs }) => Promise.race([
          window.__started[name],
          new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), timeoutMs || 20_000)),
        ]), step);
        break;
      default:
        throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
    out.results.push(result);
  }
  // Beacons are not awaited by the page: let every edge request that started finish (bounded)
  // and be recorded before the browser goes away.
  await page.waitForTimeout(plan.settleMs ?? 200);
  for (let waited = 0; inFlight > 0 && waited < 30_000; waited += 100) {
    await page.waitForTimeout(100);
  }
  if (inFlight > 0) out.unfinishedRequests = inFlight;
  await Promise.allSettled(pending);
  await context.close();
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  await Promise.allSettled(pending);
  await browser.close().catch(() => {});
  clearTimeout(hardStop);
}
process.stdout.write(JSON.stringify(out));
