/** The three samples analyse with zero errors through the real on-disk path, and their manifests look right. */

import { resolve } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { type AnalysisResult, analyzeEntry } from "../../../compiler/analyze-entry.ts";
import type { Manifest } from "../../../sdk/manifest.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const results: Record<string, AnalysisResult> = {};

beforeAll(async () => {
  for (const name of ["support-tickets", "tabular", "ocr"]) results[name] = await analyzeEntry({ entry: resolve(ROOT, "samples", name) });
});

function manifest(name: string): Manifest {
  const r = results[name];
  expect(r?.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  if (!r?.manifest) throw new Error(`${name}: no manifest`);
  return r.manifest;
}

function validator(m: Manifest, schema: object) {
  return new Ajv2020({ strict: false }).compile({ ...schema, $defs: m.$defs });
}

describe("samples analyse with zero errors", () => {
  it("support-tickets: four APIs, two batched runners with their replica ranges, schemas that accept real payloads", () => {
    const m = manifest("support-tickets");
    expect(results["support-tickets"]?.diagnostics).toEqual([]);
    expect(m.service).toMatchObject({
      name: "support-tickets",
      className: "SupportTickets",
      version: "1.0.0",
      traffic: { timeoutMs: 10000, maxConcurrency: 512 },
    });
    expect(m.service.apis.map((a) => [a.name, a.method, a.route, a.input.descriptor.kind])).toEqual([
      ["classify", "POST", "/classify", "json"],
      ["classifyTicket", "POST", "/classify-ticket", "json"],
      ["classifyText", "POST", "/classify-text", "text"],
      ["labels", "GET", "/labels", "json"],
    ]);
    const classify = m.service.apis[0]!;
    expect(classify.summary).toBe("Classify tickets: a label and its score per text, in input order.");
    expect(classify.examples).toEqual([{ texts: ["refund needed", "cannot log in"] }]);
    const input = validator(m, classify.input.schema);
    expect(input({ texts: ["refund please", "cannot log in"] })).toBe(true);
    expect(input({ texts: [] })).toBe(false);
    expect(input({ texts: ["fine", ""] })).toBe(false);
    expect(input({ texts: ["x".repeat(4001)] })).toBe(false);
    expect(input({ texts: Array(65).fill("x") })).toBe(false);
    expect(input({ texts: ["x"], extra: 1 })).toBe(false);
    const output = validator(m, classify.output.schema);
    const scores = { billing: 0.1, bug: 0.7, account: 0.1, other: 0.1 };
    expect(output({ results: [{ label: "bug", score: 0.7, scores }] })).toBe(true);
    expect(output({ results: [{ label: "spam", score: 0.7, scores }] })).toBe(false);
    const ticket = validator(m, m.service.apis[1]!.input.schema);
    expect(ticket({ text: "refund please", id: "T-1" })).toBe(true);
    expect(ticket({ text: "" })).toBe(false);
    expect(m.service.apis[3]?.output.schema).toEqual({ type: "array", items: { type: "string", enum: ["billing", "bug", "account", "other"] } });
    expect(m.service.dependencies).toEqual([
      { property: "embedding", runner: "embedding" },
      { property: "classifier", runner: "classifier" },
    ]);
    const numbers = { type: "array", items: { type: "number" } };
    expect(m.runners).toEqual([
      {
        name: "classifier",
        className: "ClassifierRunner",
        model: "support-tickets-classifier:latest",
        placement: "inline",
        resources: { cpu: "500m", memory: "256Mi" },
        threads: null,
        scaling: { minReplicas: 1, maxReplicas: 5 },
        methods: [
          { name: "classify", batchable: true, batchDim: 0, maxBatchSize: 128, maxLatencyMs: 2, groupByLength: false, input: numbers, output: numbers },
        ],
      },
      {
        name: "embedding",
        className: "EmbeddingRunner",
        model: "support-tickets-minilm:latest",
        placement: "inline",
        resources: { cpu: "2", memory: "2Gi" },
        threads: null,
        scaling: { minReplicas: 1, maxReplicas: 8 },
        methods: [
          { name: "embed", batchable: true, batchDim: 0, maxBatchSize: 32, maxLatencyMs: 10, groupByLength: true, input: { type: "string" }, output: numbers },
        ],
      },
    ]);
    expect(m.models).toEqual(["support-tickets-classifier:latest", "support-tickets-minilm:latest"]);
    expect(m.entry).toEqual({ source: "samples/support-tickets/service.ts", bundle: "service.mjs" });
    expect(Object.keys(m.$defs)).toEqual(["Classification", "ClassifyRequest", "ClassifyResponse", "Scores", "Ticket", "TicketClassification"]);
  });

  it("tabular: NdArray in and out with the ndarray wire schema", () => {
    const m = manifest("tabular");
    const predict = m.service.apis[0]!;
    expect(predict.input.descriptor).toEqual({ kind: "ndarray", dtype: "float32", shape: [null, 8] });
    expect(predict.input.schema).toMatchObject({ type: "object", required: ["data", "shape"], properties: { dtype: { enum: ["float32"] } } });
    const input = validator(m, predict.input.schema);
    expect(input({ dtype: "float32", shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] })).toBe(true);
    expect(input({ shape: [1, 8] })).toBe(false);
    expect(m.runners.map((r) => [r.name, r.model, r.methods[0]?.maxBatchSize])).toEqual([["tabular-mlp", "tabular-mlp:latest", 256]]);
    expect(m.runners[0]?.methods[0]?.input).toEqual({ $ref: "#/$defs/NdArray" });
  });

  it("ocr: an Image API, two runners sorted by name, tuple boxes", () => {
    const m = manifest("ocr");
    const read = m.service.apis[0]!;
    expect(read.input).toEqual({ descriptor: { kind: "image", formats: ["png", "jpeg"] }, schema: { type: "string", contentMediaType: "image/*" } });
    expect(read.output.schema).toEqual({ $ref: "#/$defs/OcrResult" });
    expect(m.runners.map((r) => r.name)).toEqual(["text-detector", "text-recognizer"]);
    expect(m.models).toEqual(["ppocr-det:latest", "ppocr-rec:latest"]);
    expect(m.$defs["TextBox"]).toMatchObject({ properties: { confidence: { type: "number", minimum: 0, maximum: 1 } } });
    const out = validator(m, read.output.schema);
    const box = [
      { x: 0, y: 0 },
      { x: 1, y: 0 },
      { x: 1, y: 1 },
      { x: 0, y: 1 },
    ];
    expect(out({ width: 2, height: 2, lines: [{ text: "hi", confidence: 0.9, box }] })).toBe(true);
    expect(out({ width: 2, height: 2, lines: [{ text: "hi", confidence: 1.5, box }] })).toBe(false);
    expect(out({ width: 2, height: 2, lines: [{ text: "hi", confidence: 0.5, box: box.slice(0, 3) }] })).toBe(false);
    expect(results["ocr"]?.sourceFiles).toContain(resolve(ROOT, "samples/ocr/ocr-pipeline.ts"));
  });

  it("is deterministic: a second analysis gives byte-identical manifests, without absolute paths", async () => {
    for (const name of ["support-tickets", "tabular", "ocr"]) {
      const again = await analyzeEntry({ entry: resolve(ROOT, "samples", name, "service.ts") });
      const text = JSON.stringify(again.manifest);
      expect(text).toBe(JSON.stringify(results[name]?.manifest));
      expect(text).not.toContain(ROOT);
    }
  });
});
