/**
 * The model checks against the samples' real models: with every sample's model in a store (the tiny
 * variants `npm run models -- --variant tiny` prepares), the four samples compile with no diagnostic at
 * all — the run() feeds of tabular, streaming-text and support-tickets' classifier are checked against their
 * graphs and fit (and a one-word slip in a copy of tabular does not). Against an empty store each runner's tag is one BC2003 warning at its `model` option, and
 * still compiles; as `build` reads it, one BC1026 error each.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelCatalogue } from "../../../cli/model-catalogue.ts";
import { analyzeEntry } from "../../../compiler/analyze-entry.ts";
import type { ModelCatalogue } from "../../../compiler/model-catalogue.ts";
import { prepareModels } from "../../../scripts/models/prepare.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const SAMPLES = ["support-tickets", "tabular", "ocr", "streaming-text"] as const;
let home = "";
let empty = "";

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "bentoc-home-samples-"));
  empty = mkdtempSync(join(tmpdir(), "bentoc-home-empty-"));
  await prepareModels({ variant: "tiny", home, log: () => {} });
}, 120_000);

afterAll(() => {
  for (const dir of [home, empty]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function catalogue(dir: string, missing: ModelCatalogue["missing"]): Promise<ModelCatalogue> {
  const c = await readModelCatalogue(dir, missing);
  if (!c) throw new Error(`the store ${dir} could not be listed`);
  return c;
}

describe("the samples against the model store", () => {
  it("the catalogue lists every sample model with its graph's inputs and outputs", async () => {
    const c = await catalogue(home, "warning");
    expect(c.models.map((m) => m.name).sort()).toEqual([
      "ppocr-det",
      "ppocr-rec",
      "streaming-text-chargen",
      "support-tickets-classifier",
      "support-tickets-minilm",
      "tabular-mlp",
    ]);
    const tabular = c.models.find((m) => m.name === "tabular-mlp");
    expect(tabular?.inputs.map((i) => [i.name, i.dtype, i.shape.length])).toEqual([["x", "float32", 2]]);
    expect(tabular?.outputs.map((o) => [o.name, o.dtype])).toEqual([["y", "float32"]]);
  });

  it.each(SAMPLES)("%s compiles with no diagnostic when its models are in the store", async (name) => {
    const result = await analyzeEntry({ entry: resolve(ROOT, "samples", name), models: await catalogue(home, "warning") });
    expect(result.diagnostics).toEqual([]);
    expect(result.manifest).not.toBeNull();
  });

  it.each(SAMPLES)("%s: each runner's tag is a BC2003 warning at its model option against an empty store, BC1026 as build reads it", async (name) => {
    const entry = resolve(ROOT, "samples", name);
    const compiled = await analyzeEntry({ entry, models: await catalogue(empty, "warning") });
    expect(compiled.manifest).not.toBeNull();
    const tags = compiled.manifest?.runners.map((r) => r.model).filter((t) => t !== null) ?? [];
    expect(tags.length).toBeGreaterThan(0);
    expect(compiled.diagnostics.map((d) => d.code)).toEqual(tags.map(() => "BC2003"));
    for (const d of compiled.diagnostics) {
      expect(d.message).toMatch(/The store is empty\.$/);
      const line = readFileSync(d.file ?? "", "utf8").split("\n")[(d.line ?? 0) - 1] ?? "";
      expect(line.slice((d.column ?? 1) - 1)).toMatch(/^"[a-z0-9.:_-]+"/); // at the tag itself
    }
    const built = await analyzeEntry({ entry, models: await catalogue(empty, "error") });
    expect(built.manifest).toBeNull();
    expect(built.diagnostics.map((d) => [d.code, d.severity])).toEqual(tags.map(() => ["BC1026", "error"]));
  });
});

describe("a sample's run() call checked against its real graph", () => {
  it("a copy of tabular that feeds int64 and reads output 'probs' gets two BC1027 at those literals", async () => {
    mkdirSync(join(ROOT, ".bentoc"), { recursive: true });
    const dir = mkdtempSync(join(ROOT, ".bentoc", "model-io-"));
    try {
      const source = readFileSync(join(ROOT, "samples/tabular/service.ts"), "utf8")
        .replace('{ x: { dtype: "float32", shape: [total, FEATURES]', '{ x: { dtype: "int64", shape: [total, FEATURES]')
        .replace('out["y"]', 'out["probs"]');
      writeFileSync(join(dir, "service.ts"), source);
      const result = await analyzeEntry({ entry: join(dir, "service.ts"), models: await catalogue(home, "warning") });
      const lines = source.split("\n");
      expect(
        result.diagnostics.map((d) => [d.code, lines[(d.line ?? 0) - 1]?.slice((d.column ?? 1) - 1, (d.column ?? 1) - 1 + (d.length ?? 0)), d.message]),
      ).toEqual([
        ["BC1027", '"int64"', "Runner TabularModel cannot run model tabular-mlp:latest: input 'x' is a float32 tensor, but this feed is int64."],
        [
          "BC1027",
          '"probs"',
          expect.stringMatching(/^Runner TabularModel cannot run model tabular-mlp:latest: the model has no output 'probs' \(its outputs: y: float32\[/),
        ],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
