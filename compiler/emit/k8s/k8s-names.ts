/**
 * Names, labels and ports shared by every Kubernetes object of a service, in one place so the selectors
 * of Services, PodDisruptionBudgets, NetworkPolicies and ServiceMonitors always agree with the pods.
 */
import type { Manifest } from "../../../sdk/manifest.ts";

export { DEFAULT_API_PORT as API_PORT, DEFAULT_RUNNER_PORT as RUNNER_PORT } from "../../../contract/shared-defaults.ts";
/** Where the ConfigMap's `bentoc.yaml` is mounted in every container. */
export const CONFIG_DIR = "/etc/bentoc";
export const CONFIG_FILE = `${CONFIG_DIR}/bentoc.yaml`;
/** Where the Containerfile puts the bento, and what `BENTOC_HOME` points at. */
export const BENTO_DIR = "/bento";
export const MODELS_DIR = "/bento/models";
export { RUN_AS_USER } from "../../../contract/container-security.ts";
/** Label telling the stable pods from the canary pods; Services do not select on it. */
export const TRACK_LABEL = "track";
/** Label naming the runner a runner pod serves (split overlay). */
export const RUNNER_LABEL = "bentoc.dev/runner";

export type Component = "api" | "runner";
export type Track = "stable" | "canary";

export interface K8sNames {
  service: string;
  /** The API Deployment/Service/HPA/PDB (also the monolith's). */
  api: string;
  canary: string;
  config: string;
  apiConfig: string;
  canaryConfig: string;
  secrets: string;
  /** The NetworkPolicy guarding all runner pods. */
  runners: string;
  runner(name: string): string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export class K8sNameError extends Error {
  override name = "K8sNameError";
}

function checkName(name: string, what: string): string {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    throw new K8sNameError(`${what} "${name}" is not a valid Kubernetes name (a DNS label of at most 63 characters)`);
  }
  return name;
}

export function k8sNames(manifest: Manifest): K8sNames {
  const service = checkName(manifest.service.name, "service name");
  return {
    service,
    api: service,
    canary: checkName(`${service}-canary`, "canary Deployment name"),
    config: checkName(`${service}-config`, "ConfigMap name"),
    apiConfig: checkName(`${service}-api-config`, "ConfigMap name"),
    canaryConfig: checkName(`${service}-canary-config`, "ConfigMap name"),
    secrets: `${service}-secrets`,
    runners: checkName(`${service}-runners`, "NetworkPolicy name"),
    runner: (name) => checkName(`${service}-runner-${name}`, `runner "${name}" object name`),
  };
}

/** Labels that identify a group of pods; what selectors use. */
export function selectorLabels(manifest: Manifest, component: Component, runner?: string): Record<string, string> {
  const labels: Record<string, string> = {
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/instance": manifest.service.name,
    "app.kubernetes.io/name": manifest.service.name,
  };
  if (runner !== undefined) labels[RUNNER_LABEL] = runner;
  return labels;
}

/** Every label an object carries: the service's own labels, then the standard ones (which win). */
export function objectLabels(manifest: Manifest, component: Component, runner?: string): Record<string, string> {
  return sortRecord({
    ...manifest.service.labels,
    ...selectorLabels(manifest, component, runner),
    "app.kubernetes.io/managed-by": "bentoc",
    "app.kubernetes.io/part-of": manifest.service.name,
    "app.kubernetes.io/version": manifest.service.version,
  });
}

export function sortRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `ticket-classifier` → `TICKET_CLASSIFIER` (for `BENTOC_RUNNERS__<NAME>__URL`). */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/** Splits `registry/repo:tag` or `repo@sha256:…` for a kustomize `images:` entry. */
export function parseImage(image: string): { newName: string; newTag?: string; digest?: string } {
  const at = image.indexOf("@");
  if (at >= 0) return { newName: image.slice(0, at), digest: image.slice(at + 1) };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { newName: image.slice(0, colon), newTag: image.slice(colon + 1) };
  return { newName: image };
}
