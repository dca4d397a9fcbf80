/**
 * The manifests the emitter tests run on: each sample analysed by the real compiler (cached per test
 * file), plus the hand-written edge-case fixture (every IO kind, GET with and without input, recursive
 * type, enum, record, tuple, union, name clashes) for what the samples do not cover.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { analyzeEntry } from "../../../compiler/analyze-entry.ts";
import type { Manifest } from "../../../sdk/manifest.ts";

export const SAMPLES = ["support-tickets", "ocr", "tabular", "streaming-text"] as const;
export type SampleName = (typeof SAMPLES)[number];
export type ManifestName = SampleName | "edge-cases";
export const ALL_MANIFESTS: readonly ManifestName[] = [...SAMPLES, "edge-cases"];

const cache = new Map<ManifestName, Promise<Manifest>>();

/** A fresh copy of the named manifest (callers may mutate it). */
export async function loadManifest(name: ManifestName): Promise<Manifest> {
  let pending = cache.get(name);
  if (!pending) {
    pending = name === "edge-cases" ? Promise.resolve(edgeCases()) : analyzeSample(name);
    cache.set(name, pending);
  }
  return structuredClone(await pending);
}

function edgeCases(): Manifest {
  const url = new URL("../../fixtures/manifests/edge-cases.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as Manifest;
}

async function analyzeSample(name: SampleName): Promise<Manifest> {
  const entry = fileURLToPath(new URL(`../../../samples/${name}/service.ts`, import.meta.url));
  const result = await analyzeEntry({ entry, typecheck: false });
  if (!result.manifest) {
    throw new Error(`compiling ${name} failed:\n${result.diagnostics.map((d) => JSON.stringify(d)).join("\n")}`);
  }
  return result.manifest;
}
