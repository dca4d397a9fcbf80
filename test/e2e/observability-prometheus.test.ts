/**
 * Real Prometheus scraping bentoc's metrics module (served from node:http), checking that the PromQL
 * in docs/observability.md returns what the recorded calls imply. Every traffic "round" is recorded
 * synchronously, so a scrape always sees whole rounds and the expected values are exact.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTelemetry, type RuntimeTelemetry } from "../../runtime/observability/create-telemetry.ts";
import { checkPromql, lintMetricsText, type Prometheus, prometheusRequired, startPrometheus, substituteGrafanaVariables } from "../helpers/prometheus.ts";

const P95 = "histogram_quantile(0.95, sum by (le, endpoint) (rate(bentoc_api_server_request_duration_seconds_bucket[30s])))";
const MEAN_BATCH = "rate(bentoc_runner_adaptive_batch_size_sum[30s]) / rate(bentoc_runner_adaptive_batch_size_count[30s])";

describe.skipIf(!prometheusRequired())("Prometheus scrapes bentoc metrics", () => {
  let telemetry: RuntimeTelemetry;
  let server: Server;
  let prometheus: Prometheus;
  let sent = 0;
  let traffic: NodeJS.Timeout | undefined;

  /** One round: /classify 18×20 ms + 2×300 ms, /summarize 20×700 ms, batches of 3 and 5 (max 8). */
  function round() {
    for (let i = 0; i < 20; i++) {
      telemetry.requestStarted("/classify");
      telemetry.requestFinished("/classify", 200, i < 18 ? 0.02 : 0.3);
      telemetry.requestStarted("/summarize");
      telemetry.requestFinished("/summarize", 200, 0.7);
      sent += 2;
    }
    telemetry.batchExecuted("classifier", "predict", 3, 0.01);
    telemetry.batchExecuted("classifier", "predict", 5, 0.012);
  }

  beforeAll(async () => {
    telemetry = createTelemetry(
      { metrics: { enabled: true, durationBuckets: [0.01, 0.05, 0.1, 0.5, 1] }, tracing: { sampleRate: 0, endpoint: null, headers: {}, protocol: null } },
      { name: "support_tickets", version: "0.1.0", maxBatchSizes: { classifier: 8 } },
      { env: {} },
    );
    server = createServer((req, res) => {
      if (req.url !== "/metrics") return void res.writeHead(404).end();
      telemetry.metricsText().then(
        (text) => res.writeHead(200, { "content-type": telemetry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${port}`], scrapeIntervalSeconds: 1 });
    traffic = setInterval(round, 100);
  });

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await prometheus?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await telemetry?.shutdown();
  });

  it("answers the p95-per-endpoint and mean-batch-size queries, and counts every request", async () => {
    const finite = (r: { value: number }[]) => r.length > 0 && r.every((s) => Number.isFinite(s.value));
    const p95 = await prometheus.waitFor(P95, (r) => r.length === 2 && finite(r));
    const byEndpoint = Object.fromEntries(p95.map((s) => [s.metric.endpoint, s.value]));
    // rank 19 of 20 → bucket (0.1, 0.5] holding 2 of 20 → 0.1 + 0.4 × (19 − 18) / 2
    expect(byEndpoint["/classify"]).toBeCloseTo(0.3, 6);
    // rank 19 of 20 in bucket (0.5, 1] holding all 20 → 0.5 + 0.5 × 19 / 20
    expect(byEndpoint["/summarize"]).toBeCloseTo(0.975, 6);

    const mean = await prometheus.waitFor(MEAN_BATCH, finite);
    expect(mean).toHaveLength(1);
    expect(mean[0]!.metric).toMatchObject({ runner_name: "classifier", method: "predict", service_name: "support_tickets" });
    expect(mean[0]!.value).toBeCloseTo(4, 6);

    // Stop the traffic; Prometheus must converge on exactly the number of requests recorded.
    clearInterval(traffic);
    traffic = undefined;
    const total = sent;
    const got = await prometheus.waitFor("sum(bentoc_api_server_request_total)", (r) => r[0]?.value === total);
    expect(got[0]!.value).toBe(total);
    expect(total).toBeGreaterThan(0);
  });
});

describe.skipIf(!prometheusRequired())("promtool", () => {
  it("finds nothing to lint in bentoc's metrics (prom-client's own nodejs_* names aside)", async () => {
    const t = createTelemetry(
      { metrics: { enabled: true, durationBuckets: [] }, tracing: { sampleRate: 0, endpoint: null, headers: {}, protocol: null } },
      { name: "svc", version: "1" },
      { env: {} },
    );
    t.requestStarted("/a");
    t.requestFinished("/a", 200, 0.1);
    t.runnerCall("r", "p", "ok", 0.1);
    t.batchExecuted("r", "p", 3, 0.1);
    t.queueDepth("r", "p", 2);
    t.queueWait("r", "p", 0.01);
    t.rejected("r", "p", "deadline");
    t.modelLoaded("r", 2);
    const problems = await lintMetricsText(await t.metricsText());
    expect(problems.filter((p) => !p.startsWith("nodejs_"))).toEqual([]);
    // The linter does bite: a gauge named *_total is reported.
    expect(await lintMetricsText("# HELP x_total x\n# TYPE x_total gauge\nx_total 1\n")).toHaveLength(1);
  });

  it("parses the documented queries and rejects broken ones", async () => {
    const exprs = [P95, MEAN_BATCH, substituteGrafanaVariables('sum(rate(bentoc_api_server_request_total{service_name="$service"}[$__rate_interval]))')];
    expect(await checkPromql(exprs)).toEqual([]);
    const bad = await checkPromql(["sum(rate(bentoc_api_server_request_total[5m])"]);
    expect(bad).toHaveLength(1);
    expect(bad[0]!.error).toMatch(/unclosed|parse|expected/i);
  });
});
