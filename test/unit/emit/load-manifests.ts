/**
 * The manifests the emitter tests run on: one per sample plus the hand-written edge-case fixture
 * (every IO kind, GET with and without input, recursive type, enum, record, tuple, name clashes).
 */
import { readFileSync } from "node:fs";
import type { Manifest } from "../../../sdk/manifest.ts";

export const SAMPLES = ["support-tickets", "ocr", "tabular"] as const;
export type SampleName = (typeof SAMPLES)[number];

export function fixtureManifest(name: SampleName | "edge-cases"): Manifest {
  const url = new URL(`../../fixtures/manifests/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as Manifest;
}

export function sampleManifest(name: SampleName): Manifest {
  return fixtureManifest(name);
}

export const ALL_MANIFESTS: readonly (SampleName | "edge-cases")[] = [...SAMPLES, "edge-cases"];
