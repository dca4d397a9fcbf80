/**
 * Manifests of the three samples plus `fraud-scorer` (a variant exercising secrets, service-level
 * resources, labels and a GPU runner), hand-written in test/fixtures/k8s/ after the samples' decorators.
 * TODO(switch): once compiler/analyze-entry.ts lands, take the samples' manifests from
 * `analyzeEntry({ entry: "samples/<name>/service.ts" })` and keep only fraud-scorer as a fixture.
 */
import { readFileSync } from "node:fs";
import type { Manifest } from "../../../sdk/manifest.ts";

export const SAMPLE_NAMES = ["support-tickets", "ocr", "tabular", "fraud-scorer"] as const;

export function loadManifest(name: string): Manifest {
  return JSON.parse(readFileSync(new URL(`../../fixtures/k8s/${name}.json`, import.meta.url), "utf8")) as Manifest;
}
