/**
 * Every emitter, run from the manifest alone. Returns relative path → content; nothing here touches
 * ts-morph or the disk.
 */
import { MANIFEST_FILE, OPENAPI_FILE } from "../../contract/output-files.ts";
import type { Manifest } from "../../sdk/manifest.ts";
import { emitClient } from "./client/emit-client.ts";
import { type ContainerfileOptions, emitContainerfile } from "./containerfile/emit-containerfile.ts";
import { emitGrafanaDashboard } from "./grafana/emit-dashboard.ts";
import { toJson } from "./json.ts";
import { emitKubernetes } from "./k8s/emit-kubernetes.ts";
import { emitOpenApi } from "./openapi/emit-openapi.ts";

export interface EmitOptions {
  /** Container image for the Kubernetes manifests (default `<service>:<version>`). */
  image?: string;
  /** Effective bentoc.yaml content for the Kubernetes ConfigMap. */
  config?: object;
  containerfile?: ContainerfileOptions;
}

export function emitFromManifest(manifest: Manifest, options: EmitOptions): Record<string, string> {
  const k8sOptions: { image?: string; config?: object } = {};
  if (options.image !== undefined) k8sOptions.image = options.image;
  if (options.config !== undefined) k8sOptions.config = options.config;
  return {
    [MANIFEST_FILE]: toJson(manifest),
    [OPENAPI_FILE]: emitOpenApi(manifest),
    ...emitClient(manifest),
    ...emitKubernetes(manifest, k8sOptions),
    ...emitContainerfile(manifest, options.containerfile ?? {}),
    ...emitGrafanaDashboard(manifest),
  };
}
