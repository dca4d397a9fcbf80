/**
 * Defaults both the runtime (runtime/config/config-defaults.ts) and the generated deployment files
 * (Containerfile, Kubernetes) rely on; one value each, so a pod's probes, ports and grace period agree with
 * what the server does when its config says nothing.
 */

/** The API server's port (`server.port`); the Containerfile exposes it, the Kubernetes probes use it. */
export const DEFAULT_API_PORT = 3000;
/** The runner server's port (`bentoc serve-runner --port`); the split layout's runner pods use it. */
export const DEFAULT_RUNNER_PORT = 3001;
/**
 * Milliseconds the server waits for in-flight requests on SIGTERM/SIGINT (`server.drain_ms`). 30 s, the
 * Kubernetes default grace period: the pod's `terminationGracePeriodSeconds` is this plus the preStop
 * sleep and a margin. A drain ends as soon as the last request finishes, so an idle server stops at once.
 */
export const DEFAULT_DRAIN_MS = 30_000;
