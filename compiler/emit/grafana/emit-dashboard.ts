/**
 * Grafana dashboard emitter: `grafana/dashboard.json` for one service, with the metric names the runtime
 * exports. API row: request rate, 5xx ratio, p50/p95/p99 latency per endpoint, in-flight requests.
 * Runner row (when the service has runners): a batch size heatmap per runner (each runner batches on its
 * own, so their distributions are not summed), then mean batch size, queue depth, runner latency and rate
 * with one series per runner. `$datasource`, `$service` and `$endpoint` variables; schemaVersion 39; panel
 * ids are positions, so the bytes only change when the manifest does.
 */
import { METRIC_NAMES as M } from "../../../contract/metric-names.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import { toJson } from "../json.ts";

export const SCHEMA_VERSION = 39;

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana template variable, substituted by Grafana
const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;
const API = `{service_name="$service",endpoint=~"$endpoint"}`;
const API_5XX = `{service_name="$service",endpoint=~"$endpoint",http_response_code=~"5.."}`;
const RUNNER = `{service_name="$service"}`;
const RATE = "[$__rate_interval]";

interface Target {
  expr: string;
  legendFormat: string;
  format?: "heatmap" | "time_series";
}

interface PanelSpec {
  title: string;
  description: string;
  type: "timeseries" | "heatmap" | "row";
  unit?: string;
  targets?: Target[];
  /** Width in grid columns (24 per row); height is fixed per kind. */
  width?: number;
}

function apiPanels(): PanelSpec[] {
  const quantile = (q: number): Target => ({
    expr: `histogram_quantile(${q}, sum by (le, endpoint) (rate(${M.apiDuration}_bucket${API}${RATE})))`,
    legendFormat: `p${Math.round(q * 100)} {{endpoint}}`,
  });
  return [
    { title: "API", description: "HTTP API of the service.", type: "row" },
    {
      title: "Request rate",
      description: "Requests per second per endpoint.",
      type: "timeseries",
      unit: "reqps",
      targets: [{ expr: `sum by (endpoint) (rate(${M.apiTotal}${API}${RATE}))`, legendFormat: "{{endpoint}}" }],
    },
    {
      title: "Error ratio (5xx)",
      description: "Share of requests answered with a 5xx status, per endpoint.",
      type: "timeseries",
      unit: "percentunit",
      targets: [
        {
          expr: `sum by (endpoint) (rate(${M.apiTotal}${API_5XX}${RATE})) / sum by (endpoint) (rate(${M.apiTotal}${API}${RATE}))`,
          legendFormat: "{{endpoint}}",
        },
      ],
    },
    {
      title: "Latency p50 / p95 / p99",
      description: `Request duration quantiles per endpoint, from the ${M.apiDuration} histogram.`,
      type: "timeseries",
      unit: "s",
      targets: [quantile(0.5), quantile(0.95), quantile(0.99)],
    },
    {
      title: "In-flight requests",
      description: "Requests being processed right now, per endpoint.",
      type: "timeseries",
      unit: "short",
      targets: [{ expr: `sum by (endpoint) (${M.apiInProgress}${API})`, legendFormat: "{{endpoint}}" }],
    },
  ];
}

function runnerPanels(runners: readonly string[]): PanelSpec[] {
  return [
    { title: "Runners", description: "Model runners and their adaptive micro-batching.", type: "row" },
    ...runners.map(
      (name): PanelSpec => ({
        title: `Batch size distribution: ${name}`,
        description: `How many items each batch of runner ${name} served (${M.batchSize} buckets).`,
        type: "heatmap",
        targets: [
          {
            expr: `sum by (le) (increase(${M.batchSize}_bucket{service_name="$service",runner_name="${name}"}${RATE}))`,
            legendFormat: "{{le}}",
            format: "heatmap",
          },
        ],
      }),
    ),
    {
      title: "Mean batch size",
      description: "Calls per executed batch, per runner: rate of the histogram's sum over the rate of its count.",
      type: "timeseries",
      unit: "short",
      targets: [
        {
          expr: `sum by (runner_name) (rate(${M.batchSize}_sum${RUNNER}${RATE})) / sum by (runner_name) (rate(${M.batchSize}_count${RUNNER}${RATE}))`,
          legendFormat: "{{runner_name}}",
        },
      ],
    },
    {
      title: "Queue depth",
      description: "Calls waiting to be batched, per runner.",
      type: "timeseries",
      unit: "short",
      targets: [{ expr: `sum by (runner_name) (${M.queueDepth}${RUNNER})`, legendFormat: "{{runner_name}}" }],
    },
    {
      title: "Runner latency p95",
      description: "95th percentile of runner call duration, queue wait included.",
      type: "timeseries",
      unit: "s",
      targets: [
        {
          expr: `histogram_quantile(0.95, sum by (le, runner_name) (rate(${M.runnerDuration}_bucket${RUNNER}${RATE})))`,
          legendFormat: "{{runner_name}}",
        },
      ],
    },
    {
      title: "Runner call rate",
      description: "Runner calls per second (items, before batching).",
      type: "timeseries",
      unit: "reqps",
      targets: [{ expr: `sum by (runner_name) (rate(${M.runnerTotal}${RUNNER}${RATE}))`, legendFormat: "{{runner_name}}" }],
    },
  ];
}

function layout(specs: PanelSpec[]): object[] {
  const panels: object[] = [];
  let x = 0;
  let y = 0;
  specs.forEach((spec, i) => {
    const id = i + 1;
    if (spec.type === "row") {
      if (x > 0) y += 8;
      x = 0;
      panels.push({ id, type: "row", title: spec.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
      y += 1;
      return;
    }
    const w = spec.width ?? 12;
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    const targets = (spec.targets ?? []).map((t, n) => ({
      datasource: DATASOURCE,
      editorMode: "code",
      expr: t.expr,
      format: t.format ?? "time_series",
      legendFormat: t.legendFormat,
      range: true,
      refId: String.fromCharCode(65 + n),
    }));
    const panel: Record<string, unknown> = {
      id,
      type: spec.type,
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      gridPos: { h: 8, w, x, y },
      targets,
    };
    if (spec.type === "heatmap") {
      panel["options"] = { calculate: false, yAxis: { unit: "short" }, cellGap: 1, color: { mode: "scheme", scheme: "Oranges" } };
      panel["fieldConfig"] = { defaults: {}, overrides: [] };
    } else {
      panel["fieldConfig"] = { defaults: { unit: spec.unit ?? "short", min: 0 }, overrides: [] };
      panel["options"] = { legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max"] }, tooltip: { mode: "multi", sort: "desc" } };
    }
    panels.push(panel);
    x += w;
  });
  return panels;
}

/** Grafana uids are at most 40 characters. */
function dashboardUid(name: string): string {
  const uid = `bentoc-${name}`;
  return uid.length <= 40 ? uid : uid.slice(0, 40);
}

export function buildDashboard(manifest: Manifest): Record<string, unknown> {
  const name = manifest.service.name;
  const specs = [...apiPanels(), ...(manifest.runners.length > 0 ? runnerPanels(manifest.runners.map((r) => r.name)) : [])];
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard",
        },
      ],
    },
    description: `${name} ${manifest.service.version}: traffic, errors, latency and micro-batching. Generated by bentoc.`,
    editable: true,
    graphTooltip: 1,
    id: null,
    links: [],
    panels: layout(specs),
    refresh: "30s",
    schemaVersion: SCHEMA_VERSION,
    tags: ["bentoc", name],
    templating: {
      list: [
        { name: "datasource", label: "Data source", type: "datasource", query: "prometheus", current: {}, hide: 0, refresh: 1 },
        {
          name: "service",
          label: "Service",
          type: "query",
          datasource: DATASOURCE,
          definition: `label_values(${M.apiTotal}, service_name)`,
          query: { query: `label_values(${M.apiTotal}, service_name)`, refId: "service" },
          current: { selected: true, text: name, value: name },
          includeAll: false,
          multi: false,
          refresh: 2,
          sort: 1,
          hide: 0,
        },
        {
          name: "endpoint",
          label: "Endpoint",
          type: "query",
          datasource: DATASOURCE,
          definition: `label_values(${M.apiTotal}{service_name="$service"}, endpoint)`,
          query: { query: `label_values(${M.apiTotal}{service_name="$service"}, endpoint)`, refId: "endpoint" },
          current: { selected: true, text: "All", value: "$__all" },
          includeAll: true,
          allValue: ".*",
          multi: true,
          refresh: 2,
          sort: 1,
          hide: 0,
        },
      ],
    },
    time: { from: "now-1h", to: "now" },
    timepicker: {},
    timezone: "",
    title: `bentoc / ${name}`,
    uid: dashboardUid(name),
    version: 1,
  };
}

export function emitGrafanaDashboard(manifest: Manifest): Record<string, string> {
  return { "grafana/dashboard.json": toJson(buildDashboard(manifest)) };
}
