/**
 * prometheus-operator objects: a ServiceMonitor per Service that exposes `/metrics`, and a PrometheusRule
 * with the alerts an operator wants on day one, written with the metric names the runtime exports.
 */
import { METRIC_NAMES } from "../../../contract/metric-names.ts";
import { SERVER_ROUTES } from "../../../contract/server-routes.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import { type Component, objectLabels, selectorLabels } from "./k8s-names.ts";
import type { K8sObject } from "./k8s-workloads.ts";

/** Thresholds of the generated alerts; documented in docs/kubernetes.md. */
export const ALERTS = {
  /** p95 latency alert fires above this share of the service's request timeout. */
  latencyShareOfTimeout: 0.5,
  errorRatio: 0.05,
  /** Traffic drop: the last 10 minutes below this share of the hour before them… */
  trafficDropShare: 0.5,
  /** …when that hour had at least this many requests per second (quiet services do not page). */
  trafficDropMinBaselineRps: 0.1,
} as const;

export function serviceMonitor(manifest: Manifest, name: string, component: Component, runner?: string): K8sObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name, labels: objectLabels(manifest, component, runner) },
    spec: {
      selector: { matchLabels: selectorLabels(manifest, component, runner) },
      endpoints: [{ port: "http", path: SERVER_ROUTES.metrics, scheme: "http", interval: "15s", scrapeTimeout: "10s" }],
    },
  };
}

function selector(manifest: Manifest, extra = ""): string {
  return `{service_name="${manifest.service.name}"${extra}}`;
}

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function alertRules(manifest: Manifest): AlertRule[] {
  const s = selector(manifest);
  const s5xx = selector(manifest, `,http_response_code=~"5.."`);
  const latency = seconds(manifest.service.traffic.timeoutMs * ALERTS.latencyShareOfTimeout);
  const name = manifest.service.name;
  const labels = (severity: string) => ({ service: name, severity });
  const rules: AlertRule[] = [
    {
      alert: "BentocHighLatencyP95",
      expr: `histogram_quantile(0.95, sum by (le, endpoint) (rate(${METRIC_NAMES.apiDuration}_bucket${s}[5m]))) > ${latency}`,
      for: "10m",
      labels: labels("warning"),
      annotations: {
        summary: `${name}: p95 latency of {{ $labels.endpoint }} above ${latency}s`,
        description: `The 95th percentile latency of {{ $labels.endpoint }} has been {{ $value | humanizeDuration }} for 10 minutes (request timeout ${seconds(manifest.service.traffic.timeoutMs)}s).`,
      },
    },
    {
      alert: "BentocHighErrorRatio",
      expr:
        `sum by (endpoint) (rate(${METRIC_NAMES.apiTotal}${s5xx}[5m])) / ` +
        `sum by (endpoint) (rate(${METRIC_NAMES.apiTotal}${s}[5m])) > ${ALERTS.errorRatio}`,
      for: "5m",
      labels: labels("critical"),
      annotations: {
        summary: `${name}: more than ${ALERTS.errorRatio * 100}% of {{ $labels.endpoint }} requests fail with 5xx`,
        description: "{{ $value | humanizePercentage }} of the requests to {{ $labels.endpoint }} answered 5xx over the last 5 minutes.",
      },
    },
    {
      alert: "BentocTrafficDrop",
      expr:
        `(sum(rate(${METRIC_NAMES.apiTotal}${s}[10m])) or vector(0)) < ${ALERTS.trafficDropShare} * ` +
        `(sum(rate(${METRIC_NAMES.apiTotal}${s}[1h] offset 10m)) > ${ALERTS.trafficDropMinBaselineRps})`,
      for: "15m",
      labels: labels("warning"),
      annotations: {
        summary: `${name}: request rate fell below half of the previous hour`,
        description: "The service receives {{ $value | humanize }} requests/s, less than half of the hour before; check clients, ingress and the pods.",
      },
    },
  ];
  if (manifest.runners.length > 0) {
    rules.push({
      alert: "BentocRunnerHighLatencyP95",
      expr: `histogram_quantile(0.95, sum by (le, runner_name) (rate(${METRIC_NAMES.runnerDuration}_bucket${s}[5m]))) > ${latency}`,
      for: "10m",
      labels: labels("warning"),
      annotations: {
        summary: `${name}: p95 latency of runner {{ $labels.runner_name }} above ${latency}s`,
        description: "Runner {{ $labels.runner_name }} takes {{ $value | humanizeDuration }} at p95: add runner replicas or lower its max batch size.",
      },
    });
  }
  return rules;
}

export function prometheusRule(manifest: Manifest, name: string): K8sObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name, labels: objectLabels(manifest, "api") },
    spec: { groups: [{ name: `bentoc.${manifest.service.name}`, rules: alertRules(manifest) }] },
  };
}
