import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emitGrafanaDashboard } from "../../../compiler/emit/grafana/emit-dashboard.ts";
import { findTool, run, toolPath } from "../k8s/external-tool.ts";
import { loadManifest, SAMPLE_NAMES } from "../k8s/sample-manifests.ts";

type Obj = Record<string, any>;

const promtool = findTool("promtool");
const tmpRoot = mkdtempSync(join(tmpdir(), "bentoc-grafana-"));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

/** What the runtime exports (runtime/observability/metrics.ts); a dashboard query on any other name shows nothing. */
const RUNTIME_METRICS = new Set([
  "bentoc_api_server_request_duration_seconds_bucket",
  "bentoc_api_server_request_total",
  "bentoc_api_server_request_in_progress",
  "bentoc_runner_request_duration_seconds_bucket",
  "bentoc_runner_request_total",
  "bentoc_runner_adaptive_batch_size_bucket",
  "bentoc_runner_adaptive_batch_size_sum",
  "bentoc_runner_adaptive_batch_size_count",
  "bentoc_runner_queue_depth",
]);

/** Grafana's variables replaced by what Grafana would send, so Prometheus' parser sees a real query. */
function concrete(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$service", "svc").replaceAll("$endpoint", ".*");
}

function exprs(dashboard: Obj): string[] {
  return dashboard["panels"].flatMap((p: Obj) => (p["targets"] ?? []).map((t: Obj) => t["expr"] as string));
}

function promtoolParses(all: string[], file: string) {
  const rules = { groups: [{ name: "dashboard", rules: all.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr: concrete(expr) })) }] };
  const path = join(tmpRoot, file);
  writeFileSync(path, JSON.stringify(rules));
  return run(toolPath(promtool), ["check", "rules", path]);
}

describe.each(SAMPLE_NAMES)("emitGrafanaDashboard(%s)", (name) => {
  const manifest = loadManifest(name);
  const files = emitGrafanaDashboard(manifest);
  const dashboard = JSON.parse(files["grafana/dashboard.json"]!) as Obj;

  it("is a deterministic dashboard of schemaVersion 39 with $service defaulting to this service", () => {
    expect(Object.keys(files)).toEqual(["grafana/dashboard.json"]);
    expect(emitGrafanaDashboard(structuredClone(manifest))).toEqual(files);
    expect(dashboard).toMatchObject({ schemaVersion: 39, editable: true, title: `bentoc / ${name}` });
    expect(dashboard["uid"]).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const vars = dashboard["templating"].list as Obj[];
    expect(vars.map((v) => v["name"])).toEqual(["datasource", "service", "endpoint"]);
    expect(vars[0]).toMatchObject({ type: "datasource", query: "prometheus" });
    expect(vars[1]!["current"]).toMatchObject({ value: name });
  });

  it("has unique sequential panel ids, a valid grid and a Prometheus query per target", () => {
    const panels = dashboard["panels"] as Obj[];
    expect(panels.map((p) => p["id"])).toEqual(panels.map((_, i) => i + 1));
    const cells = new Set<string>();
    for (const p of panels) {
      const { h, w, x, y } = p["gridPos"];
      expect(x + w, p["title"]).toBeLessThanOrEqual(24);
      for (let dx = 0; dx < w; dx++)
        for (let dy = 0; dy < h; dy++) {
          const cell = `${x + dx},${y + dy}`;
          expect(cells.has(cell), `${p["title"]} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      expect(["row", "timeseries", "heatmap"]).toContain(p["type"]);
      if (p["type"] === "row") continue;
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana template variable, as emitted
      expect(p["datasource"]).toEqual({ type: "prometheus", uid: "${datasource}" });
      const refIds = (p["targets"] as Obj[]).map((t) => t["refId"]);
      expect(refIds.length).toBeGreaterThan(0);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p["targets"] as Obj[]) expect(t["expr"]).toContain('service_name="$service"');
    }
  });

  it("covers rate, errors, p50/p95/p99 per endpoint, in-flight and (with runners) batch size, queue depth", () => {
    const all = exprs(dashboard).join("\n");
    expect(all).toContain("sum by (endpoint) (rate(bentoc_api_server_request_total");
    expect(all).toContain('http_response_code=~"5.."');
    for (const q of ["0.5", "0.95", "0.99"])
      expect(all).toContain(`histogram_quantile(${q}, sum by (le, endpoint) (rate(bentoc_api_server_request_duration_seconds_bucket`);
    expect(all).toContain("bentoc_api_server_request_in_progress");
    const used = new Set([...all.matchAll(/\b(bentoc_[a-z_]+)/g)].map((m) => m[1]!));
    for (const metric of used) expect(RUNTIME_METRICS.has(metric), metric).toBe(true);
    if (manifest.runners.length > 0) {
      // A batch size heatmap per runner, each on that runner's series alone.
      const heatmaps = (dashboard["panels"] as Obj[]).filter((p) => p["type"] === "heatmap");
      expect(heatmaps.map((h) => h["title"])).toEqual(manifest.runners.map((r) => `Batch size distribution: ${r.name}`));
      heatmaps.forEach((heatmap, i) => {
        expect(heatmap["targets"][0]).toMatchObject({ format: "heatmap" });
        expect(heatmap["targets"][0]["expr"]).toContain(
          `bentoc_runner_adaptive_batch_size_bucket{service_name="$service",runner_name="${manifest.runners[i]!.name}"}`,
        );
      });
      expect(all).toMatch(
        /rate\(bentoc_runner_adaptive_batch_size_sum\{[^}]*\}\[\$__rate_interval\]\)\) \/ sum by \(runner_name\) \(rate\(bentoc_runner_adaptive_batch_size_count/,
      );
      expect(all).toContain("bentoc_runner_queue_depth");
    }
  });

  it.skipIf(promtool.skip)("every PromQL expression parses (promtool check rules on them as recording rules)", () => {
    const result = promtoolParses(exprs(dashboard), `${name}-dashboard-rules.json`);
    expect(result.stdout + result.stderr).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});

describe("the PromQL check itself", () => {
  it.skipIf(promtool.skip)("fails on an expression Prometheus cannot parse", () => {
    const result = promtoolParses(['sum by (endpoint (rate(bentoc_api_server_request_total{service_name="$service"}[$__rate_interval]))'], "broken.json");
    expect(result.status).not.toBe(0);
  });
});

describe("a service without runners", () => {
  it("gets no runner row", () => {
    const manifest = loadManifest("tabular");
    manifest.runners = [];
    const dashboard = JSON.parse(emitGrafanaDashboard(manifest)["grafana/dashboard.json"]!) as Obj;
    expect((dashboard["panels"] as Obj[]).map((p) => p["title"])).not.toContain("Runners");
    expect(exprs(dashboard).join()).not.toContain("bentoc_runner_");
  });
});
