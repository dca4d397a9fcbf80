/**
 * A real Prometheus (Debian package, 1 s scrape interval) scraping a real `bentoc serve` of the
 * support-tickets sample (tiny MiniLM, real ONNX; two runners: embedding, then classifier) while 32
 * clients send tickets concurrently. Through Prometheus' HTTP API: the documented p95-per-endpoint query
 * gives a finite positive latency for each endpoint hit, the documented mean-batch-size query gives one
 * series per runner with a mean > 1 (concurrency and multi-text requests batch items) and ≤ that runner's
 * max batch size, and after the traffic stops and a scrape has seen the end of it, the request counter
 * equals exactly the number of requests sent, per endpoint, and each runner executed exactly the texts sent.
 *
 * With CI=true a missing `prometheus` binary fails the test instead of skipping it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../sdk/manifest.ts";
import { type Prometheus, type PrometheusSample, prometheusRequired, startPrometheus } from "../helpers/prometheus.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

const P95 = "histogram_quantile(0.95, sum by (le, endpoint) (rate(bentoc_api_server_request_duration_seconds_bucket[30s])))";
const MEAN_BATCH = "rate(bentoc_runner_adaptive_batch_size_sum[30s]) / rate(bentoc_runner_adaptive_batch_size_count[30s])";

const CLIENTS = 32;
const TRAFFIC_MS = 6_000;
const WORDS = [
  "invoice",
  "charged",
  "twice",
  "subscription",
  "password",
  "reset",
  "login",
  "fails",
  "error",
  "page",
  "refund",
  "account",
  "locked",
  "billing",
  "crash",
  "upload",
  "button",
  "email",
  "support",
  "please",
];

/** A ~20-word ticket, different for every request. */
function ticket(n: number): string {
  const words: string[] = [];
  for (let i = 0; i < 20; i++) words.push(WORDS[(n * 7 + i * 13 + (n >> 3)) % WORDS.length] as string);
  return `ticket ${n}: ${words.join(" ")}`;
}

describe.skipIf(!prometheusRequired())("Prometheus scraping a running bentoc server", () => {
  let home: string;
  let served: ServedSample;
  let prometheus: Prometheus;

  beforeAll(async () => {
    home = await prepareHome(["support-tickets"]);
    served = await serveSample("support-tickets", { home });
    prometheus = await startPrometheus({ targets: [`127.0.0.1:${served.port}`], scrapeIntervalSeconds: 1 });
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await served?.stop();
    if (served) removeDir(served.outDir);
    if (home) removeDir(home);
  });

  it("gives p95 per endpoint, a mean batch size > 1 and ≤ the max, and counts every request", async () => {
    const manifest = JSON.parse(readFileSync(join(served.outDir, "bento.json"), "utf8")) as Manifest;
    const maxBatchSize: Record<string, number> = Object.fromEntries(manifest.runners.map((r) => [r.name, r.methods[0]!.maxBatchSize]));
    expect(maxBatchSize).toEqual({ embedding: 32, classifier: 128 });

    // The target is up (one successful scrape) before traffic starts, so the first traffic samples
    // have a baseline for rate().
    await prometheus.waitFor("up", (r) => r[0]?.value === 1, 30_000);

    // 32 clients, each sending one request after another: 3 in 4 to /classify (JSON, 1 to 3 texts), 1 in
    // 4 to /classify-text (text/plain, one text); both call the same two batched runner methods.
    const sent: Record<string, number> = { "/classify": 0, "/classify-text": 0 };
    let texts = 0;
    const statuses: Record<number, number> = {};
    let n = 0;
    const stopAt = Date.now() + TRAFFIC_MS;
    const client = async (c: number) => {
      while (Date.now() < stopAt) {
        const i = n++;
        const text = c % 4 === 3;
        const endpoint = text ? "/classify-text" : "/classify";
        const batch = Array.from({ length: 1 + (i % 3) }, (_, k) => ticket(i * 3 + k));
        const res = await fetch(`${served.url}${endpoint}`, {
          method: "POST",
          headers: { "content-type": text ? "text/plain" : "application/json" },
          body: text ? ticket(i) : JSON.stringify({ texts: batch }),
        });
        await res.arrayBuffer();
        sent[endpoint]!++;
        texts += text ? 1 : batch.length;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    const trafficEnded = Date.now();
    const total = sent["/classify"]! + sent["/classify-text"]!;
    expect(statuses).toEqual({ 200: total });
    expect(sent["/classify-text"]).toBeGreaterThan(0);

    // Wait (no fixed sleep) until Prometheus has scraped after the last response: the scrape's
    // timestamp is when it started, and the server counted each request before answering it.
    await prometheus.waitFor('timestamp(up{job="bentoc"})', (r) => (r[0]?.value ?? 0) * 1000 > trafficEnded + 1, 15_000);

    // Everything below is evaluated at "now", less than 30 s after the traffic started.
    const finite = (r: PrometheusSample[]) => r.length > 0 && r.every((s) => Number.isFinite(s.value));

    const p95 = await prometheus.waitFor(P95, (r) => r.length === 2 && finite(r), 10_000);
    const p95ByEndpoint: Record<string, number> = Object.fromEntries(p95.map((s) => [s.metric.endpoint, s.value]));
    expect(Object.keys(p95ByEndpoint).sort()).toEqual(["/classify", "/classify-text"]);
    for (const v of Object.values(p95ByEndpoint)) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(10); // the service's own timeout
    }

    const mean = await prometheus.waitFor(MEAN_BATCH, (r) => r.length === 2 && finite(r), 10_000);
    const meanBatch: Record<string, number> = {};
    for (const series of mean) {
      expect(series.metric).toMatchObject({ service_name: "support-tickets", service_version: "1.0.0" });
      expect(series.metric.method).toBe(series.metric.runner_name === "embedding" ? "embed" : "classify");
      meanBatch[series.metric.runner_name!] = series.value;
    }
    expect(Object.keys(meanBatch).sort()).toEqual(["classifier", "embedding"]);
    for (const [runner, value] of Object.entries(meanBatch)) {
      expect(value, runner).toBeGreaterThan(1);
      expect(value, runner).toBeLessThanOrEqual(maxBatchSize[runner]!);
    }

    // One batch-size histogram, buckets 1, 2, 4 … up to the largest max (the union over runners); no
    // runner's batch exceeded its own max.
    for (const runner of ["embedding", "classifier"]) {
      const buckets = await prometheus.query(`sum by (le) (bentoc_runner_adaptive_batch_size_bucket{runner_name="${runner}"})`);
      const byLe = Object.fromEntries(buckets.map((s) => [s.metric.le, s.value]));
      expect(
        Object.keys(byLe)
          .map((le) => (le === "+Inf" ? Infinity : Number(le)))
          .sort((a, b) => a - b),
      ).toEqual([1, 2, 4, 8, 16, 32, 64, 128, Infinity]);
      expect(byLe[String(maxBatchSize[runner])]).toBe(byLe["+Inf"]);
    }

    // Exact request totals (latest sample, no rate): per endpoint, all 200, and the grand total.
    const perEndpoint = await prometheus.query('sum by (endpoint, http_response_code) (bentoc_api_server_request_total{service_name="support-tickets"})');
    expect(Object.fromEntries(perEndpoint.map((s) => [`${s.metric.endpoint} ${s.metric.http_response_code}`, s.value]))).toEqual({
      "/classify 200": sent["/classify"],
      "/classify-text 200": sent["/classify-text"],
    });
    const [sum] = await prometheus.query("sum(bentoc_api_server_request_total)");
    expect(sum!.value).toBe(total);

    // Every request made exactly one call to each runner, all ok, and each runner executed every text once.
    for (const runner of ["embedding", "classifier"]) {
      const [calls] = await prometheus.query(`sum(bentoc_runner_request_total{runner_name="${runner}", outcome="ok"})`);
      expect(calls!.value, runner).toBe(total);
      const [items] = await prometheus.query(`sum(bentoc_runner_adaptive_batch_size_sum{runner_name="${runner}"})`);
      expect(items!.value, runner).toBe(texts);
    }
    // Nothing in flight any more.
    const [inProgress] = await prometheus.query("sum(bentoc_api_server_request_in_progress)");
    expect(inProgress!.value).toBe(0);

    console.log(
      `[observability-server-prometheus] ${total} requests (${sent["/classify"]} /classify, ${sent["/classify-text"]} /classify-text) in ${TRAFFIC_MS} ms by ${CLIENTS} clients; ` +
        `p95 ${Object.entries(p95ByEndpoint)
          .map(([e, v]) => `${e} ${(v * 1000).toFixed(1)} ms`)
          .join(", ")}; mean batch size ${Object.entries(meanBatch)
          .map(([r, v]) => `${r} ${v.toFixed(2)} (max ${maxBatchSize[r]})`)
          .join(", ")}`,
    );
  });
});
