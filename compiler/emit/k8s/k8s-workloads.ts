/**
 * Builders for the workload objects: Deployment (with its hardened pod), Service, HorizontalPodAutoscaler,
 * PodDisruptionBudget and the runner NetworkPolicy. Plain objects in the field order `kubectl` prints, so
 * the YAML reads naturally and is byte-stable.
 */
import { restrictedSecurityContext } from "../../../contract/container-security.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import type { Resources } from "../../../sdk/types.ts";
import {
  API_PORT,
  CONFIG_DIR,
  type Component,
  MODELS_DIR,
  objectLabels,
  RUN_AS_USER,
  RUNNER_LABEL,
  RUNNER_PORT,
  selectorLabels,
  sortRecord,
  TRACK_LABEL,
  type Track,
} from "./k8s-names.ts";

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } } & Record<string, unknown>;

/** Resources of a pod that declared none (the HPA needs a CPU request to compute utilisation). */
export const DEFAULT_RESOURCES = { cpu: "500m", memory: "512Mi" } as const;
/** Startup probe budget: period × failures = 10 minutes for loading models before liveness takes over. */
export const STARTUP_PERIOD_SECONDS = 5;
export const STARTUP_FAILURE_THRESHOLD = 120;
/** Seconds a terminating pod keeps serving so endpoints controllers and load balancers drop it first. */
export const PRE_STOP_SLEEP_SECONDS = 5;
/** Slack on top of pre-stop sleep + drain before the kubelet sends SIGKILL. */
export const TERMINATION_MARGIN_SECONDS = 10;

export interface WorkloadSpec {
  name: string;
  component: Component;
  track: Track;
  /** Set for runner pods (split overlay). */
  runner?: string;
  image: string;
  args: string[];
  port: number;
  livenessPath: string;
  readinessPath: string;
  resources: Resources;
  env: EnvVar[];
  configMap: string;
  drainMs: number;
  /** Omitted when an HPA owns the replica count. */
  replicas?: number;
}

export type EnvVar = { name: string; value: string } | { name: string; valueFrom: { secretKeyRef: { name: string; key: string; optional: false } } };

function resourceRequirements(resources: Resources): Record<string, Record<string, string>> {
  const cpu = resources.cpu ?? DEFAULT_RESOURCES.cpu;
  const memory = resources.memory ?? DEFAULT_RESOURCES.memory;
  const requests: Record<string, string> = { cpu, memory };
  const limits: Record<string, string> = { cpu, memory };
  if (resources.gpu !== undefined && resources.gpu > 0) limits["nvidia.com/gpu"] = String(resources.gpu);
  return { limits, requests };
}

function podLabels(manifest: Manifest, spec: WorkloadSpec): Record<string, string> {
  return sortRecord({ ...objectLabels(manifest, spec.component, spec.runner), [TRACK_LABEL]: spec.track });
}

export function deploymentSelector(manifest: Manifest, spec: Pick<WorkloadSpec, "component" | "runner" | "track">): Record<string, string> {
  return sortRecord({ ...selectorLabels(manifest, spec.component, spec.runner), [TRACK_LABEL]: spec.track });
}

export function terminationGraceSeconds(drainMs: number): number {
  return PRE_STOP_SLEEP_SECONDS + Math.ceil(drainMs / 1000) + TERMINATION_MARGIN_SECONDS;
}

export function deployment(manifest: Manifest, spec: WorkloadSpec): K8sObject {
  const gpu = spec.resources.gpu !== undefined && spec.resources.gpu > 0;
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: "http" },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });
  const container = {
    name: spec.component,
    image: spec.image,
    imagePullPolicy: "IfNotPresent",
    args: spec.args,
    ports: [{ name: "http", containerPort: spec.port, protocol: "TCP" }],
    env: spec.env,
    resources: resourceRequirements(spec.resources),
    startupProbe: probe(spec.readinessPath, STARTUP_PERIOD_SECONDS, STARTUP_FAILURE_THRESHOLD),
    livenessProbe: probe(spec.livenessPath, 10, 3),
    readinessProbe: probe(spec.readinessPath, 5, 2),
    lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
    securityContext: restrictedSecurityContext(),
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "config", mountPath: CONFIG_DIR, readOnly: true },
    ],
  };
  const podSpec: Record<string, unknown> = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      fsGroup: RUN_AS_USER,
      seccompProfile: { type: "RuntimeDefault" },
    },
    terminationGracePeriodSeconds: terminationGraceSeconds(spec.drainMs),
    containers: [container],
    volumes: [
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "config", configMap: { name: spec.configMap } },
    ],
  };
  if (gpu) podSpec["tolerations"] = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];
  const deploymentSpec: Record<string, unknown> = {};
  if (spec.replicas !== undefined) deploymentSpec["replicas"] = spec.replicas;
  Object.assign(deploymentSpec, {
    revisionHistoryLimit: 5,
    // Longer than the startup probe budget, so a slow model load is not reported as a failed rollout.
    progressDeadlineSeconds: STARTUP_PERIOD_SECONDS * STARTUP_FAILURE_THRESHOLD + 300,
    selector: { matchLabels: deploymentSelector(manifest, spec) },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
    template: { metadata: { labels: podLabels(manifest, spec) }, spec: podSpec },
  });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: spec.name, labels: podLabels(manifest, spec) },
    spec: deploymentSpec,
  };
}

export function service(manifest: Manifest, name: string, component: Component, port: number, runner?: string): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, labels: objectLabels(manifest, component, runner) },
    spec: {
      type: "ClusterIP",
      // No track label: stable and canary pods share the Service, in proportion to their replicas.
      selector: selectorLabels(manifest, component, runner),
      ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function autoscaler(manifest: Manifest, name: string, component: Component, bounds: { min: number; max: number }, runner?: string): K8sObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name, labels: objectLabels(manifest, component, runner) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: bounds.min,
      maxReplicas: bounds.max,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  };
}

export function disruptionBudget(manifest: Manifest, name: string, component: Component, runner?: string): K8sObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, labels: objectLabels(manifest, component, runner) },
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: deploymentSelector(manifest, { component, ...(runner === undefined ? {} : { runner }), track: "stable" }) },
    },
  };
}

/**
 * Runner pods accept traffic only from this service's API pods (and from Prometheus, to scrape
 * `/metrics` on the same port; delete that rule if your Prometheus scrapes through another path).
 */
export function runnerNetworkPolicy(manifest: Manifest, name: string): K8sObject {
  const runnerPods = { ...selectorLabels(manifest, "runner") };
  delete runnerPods[RUNNER_LABEL];
  const port = [{ protocol: "TCP", port: RUNNER_PORT }];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, labels: objectLabels(manifest, "runner") },
    spec: {
      podSelector: { matchLabels: runnerPods },
      policyTypes: ["Ingress"],
      ingress: [
        { from: [{ podSelector: { matchLabels: selectorLabels(manifest, "api") } }], ports: port },
        {
          from: [{ namespaceSelector: {}, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
          ports: port,
        },
      ],
    },
  };
}

export function baseEnv(serviceName: string): EnvVar[] {
  return [
    { name: "NODE_ENV", value: "production" },
    { name: "BENTOC_HOME", value: MODELS_DIR },
    { name: "OTEL_SERVICE_NAME", value: serviceName },
  ];
}

export function secretEnv(secretName: string, keys: readonly string[]): EnvVar[] {
  return [...keys].sort().map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: secretName, key, optional: false as const } } }));
}

export { API_PORT, RUNNER_PORT };
