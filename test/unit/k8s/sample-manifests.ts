/**
 * Manifests the emitter tests run on: the three samples, compiled for real with `analyzeEntry`, plus
 * `fraud-scorer` (test/fixtures/k8s/fraud-scorer.json), a hand-written variant exercising what the samples
 * do not: secrets, service-level resources, labels and a GPU runner.
 */
import { readFileSync } from "node:fs";
import { analyzeEntry } from "../../../compiler/analyze-entry.ts";
import type { Manifest } from "../../../sdk/manifest.ts";

export const SAMPLE_NAMES = ["support-tickets", "ocr", "tabular", "fraud-scorer"] as const;
const COMPILED = ["support-tickets", "ocr", "tabular"] as const;

async function compileSample(name: string): Promise<Manifest> {
  const result = await analyzeEntry({ entry: `samples/${name}/service.ts`, typecheck: false });
  if (result.manifest === null) throw new Error(`samples/${name} did not compile: ${JSON.stringify(result.diagnostics).slice(0, 2000)}`);
  return result.manifest;
}

const manifests = new Map<string, Manifest>(await Promise.all(COMPILED.map(async (n) => [n, await compileSample(n)] as const)));
manifests.set("fraud-scorer", JSON.parse(readFileSync(new URL("../../fixtures/k8s/fraud-scorer.json", import.meta.url), "utf8")) as Manifest);

/** A fresh copy, so a test may change it. */
export function loadManifest(name: string): Manifest {
  const m = manifests.get(name);
  if (!m) throw new Error(`no manifest for ${name}`);
  return structuredClone(m);
}
