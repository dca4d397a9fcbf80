/**
 * The generated sample models run in onnxruntime-node with the contract the samples rely on, through
 * the store and `loadOnnxModel`, and the sample runner classes work on them. Uses the tiny MiniLM (same
 * graph as the full one) and the real MiniLM tokenizer.
 */
import { readFile } from "node:fs/promises";
import { Tokenizer } from "@huggingface/tokenizers";
import ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { ModelStore, loadOnnxModel, type OnnxModel } from "../../../runtime/models/index.ts";
import { buildMiniLm } from "../../../scripts/models/minilm.ts";
import { DEFAULT_MINILM_ASSETS, prepareModels } from "../../../scripts/models/prepare.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { TicketClassifier } from "../../../samples/support-tickets/service.ts";
import { TabularModel } from "../../../samples/tabular/service.ts";
import { useTempDirs } from "./temp-home.ts";

const tempDir = useTempDirs();

const TICKETS = [
  "I was charged twice for my subscription this month",
  "The export button crashes the app",
  "How do I change the email on my account?",
  "thanks",
  "Your latest update broke the login page on Safari and now none of our team can sign in, please help urgently",
];

let tokenizer: Tokenizer;
beforeAll(async () => {
  const json = JSON.parse(await readFile(`${DEFAULT_MINILM_ASSETS}/tokenizer.json`, "utf8"));
  const config = JSON.parse(await readFile(`${DEFAULT_MINILM_ASSETS}/tokenizer_config.json`, "utf8"));
  json.padding = null;
  tokenizer = new Tokenizer(json, config);
});

function encode(texts: readonly string[], seq?: number): Record<string, ort.Tensor> {
  const rows = texts.map((t) => tokenizer.encode(t, { add_special_tokens: true }).ids);
  const S = seq ?? Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(texts.length * S);
  const mask = new BigInt64Array(texts.length * S);
  rows.forEach((row, i) => row.forEach((id: number, j: number) => {
    ids[i * S + j] = BigInt(id);
    mask[i * S + j] = 1n;
  }));
  return { input_ids: new ort.Tensor("int64", ids, [texts.length, S]), attention_mask: new ort.Tensor("int64", mask, [texts.length, S]) };
}

function rows(t: ort.Tensor): number[][] {
  const [n = 0, w = 0] = t.dims;
  const d = t.data as Float32Array;
  return Array.from({ length: n }, (_, i) => Array.from(d.subarray(i * w, (i + 1) * w)));
}

describe("tiny MiniLM classifier", () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(buildMiniLm("tiny"), { intraOpNumThreads: 1 });
  });

  it("has the inputs and output the support-tickets runner uses", () => {
    expect(session.inputNames).toEqual(["input_ids", "attention_mask"]);
    expect(session.outputNames).toEqual(["probs"]);
  });

  it("is deterministic: the same bytes every build", () => {
    expect(Buffer.compare(Buffer.from(buildMiniLm("tiny")), Buffer.from(buildMiniLm("tiny")))).toBe(0);
  });

  it("returns [batch, 4] probabilities that sum to 1 and differ between texts", async () => {
    const out = (await session.run(encode(TICKETS)))["probs"]!;
    expect(out.dims).toEqual([TICKETS.length, 4]);
    const probs = rows(out);
    for (const p of probs) {
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (const v of p) expect(v).toBeGreaterThan(0);
    }
    // Not degenerate: the texts do not all get the same (or a flat) distribution.
    const spread = Math.max(...probs.map((p) => Math.max(...p) - Math.min(...p)));
    expect(spread).toBeGreaterThan(0.05);
    const first = probs[0]!;
    expect(probs.slice(1).some((p) => p.some((v, i) => Math.abs(v - first[i]!) > 1e-3))).toBe(true);
  });

  it("gives each text the same probabilities alone, batched, and padded with masked tokens (< 1e-5)", async () => {
    const alone = await Promise.all(TICKETS.map(async (t) => rows((await session.run(encode([t])))["probs"]!)[0]!));
    const batched = rows((await session.run(encode(TICKETS)))["probs"]!);
    const padded = rows((await session.run(encode(TICKETS, 64)))["probs"]!);
    for (let i = 0; i < TICKETS.length; i++) {
      for (let k = 0; k < 4; k++) {
        expect(Math.abs(batched[i]![k]! - alone[i]![k]!)).toBeLessThan(1e-5);
        expect(Math.abs(padded[i]![k]! - alone[i]![k]!)).toBeLessThan(1e-5);
      }
    }
  });

  it("changes its output when a real token changes (the mask is not hiding everything)", async () => {
    const a = rows((await session.run(encode(["refund my order"])))["probs"]!)[0]!;
    const b = rows((await session.run(encode(["refund my account"])))["probs"]!)[0]!;
    expect(a.some((v, i) => Math.abs(v - b[i]!) > 1e-4)).toBe(true);
  });
});

describe("tabular MLP", () => {
  it("maps x [N, 8] to y [N, 3] probabilities, row by row", async () => {
    const session = await ort.InferenceSession.create(buildTabular());
    expect(session.inputNames).toEqual(["x"]);
    expect(session.outputNames).toEqual(["y"]);
    const x = Float32Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i * 0.7));
    const y = (await session.run({ x: new ort.Tensor("float32", x, [5, 8]) }))["y"]!;
    expect(y.dims).toEqual([5, 3]);
    const all = rows(y);
    for (const p of all) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const one = rows((await session.run({ x: new ort.Tensor("float32", x.slice(16, 24), [1, 8]) }))["y"]!)[0]!;
    one.forEach((v, i) => expect(Math.abs(v - all[2]![i]!)).toBeLessThan(1e-6));
    await session.release();
  });
});

describe("sample runners over models from the store", () => {
  it("prepare-models stores them once; the support-tickets runner classifies batched == one by one", async () => {
    const home = await tempDir();
    const lines: string[] = [];
    const first = await prepareModels({ home, variant: "tiny", only: ["support-tickets", "tabular"], log: (l) => lines.push(l) });
    expect(first.map((r) => r.status)).toEqual(["saved", "saved"]);
    const again = await prepareModels({ home, variant: "tiny", only: ["support-tickets", "tabular"], log: (l) => lines.push(l) });
    expect(again.map((r) => r.status)).toEqual(["up to date", "up to date"]);
    expect(again.map((r) => r.tag)).toEqual(first.map((r) => r.tag));
    expect(lines).toHaveLength(4);

    const record = await new ModelStore(home).get("support-tickets-minilm:latest");
    expect(record.labels["variant"]).toBe("tiny");
    expect(record.files.map((f) => f.path)).toEqual(["model.onnx", "tokenizer.json", "tokenizer_config.json"]);
    expect(record.inputs).toEqual([
      { name: "input_ids", dtype: "int64", shape: ["batch", "sequence"] },
      { name: "attention_mask", dtype: "int64", shape: ["batch", "sequence"] },
    ]);
    expect(record.outputs).toEqual([{ name: "probs", dtype: "float32", shape: ["batch", 4] }]);

    const model: OnnxModel = await loadOnnxModel("support-tickets-minilm", { home, threads: 1 });
    try {
      const runner = new TicketClassifier();
      runner.model = model;
      await runner.setup();
      const batched = await runner.classify(TICKETS);
      expect(batched).toHaveLength(TICKETS.length);
      for (let i = 0; i < TICKETS.length; i++) {
        const [alone] = await runner.classify([TICKETS[i]!]);
        alone!.forEach((v, k) => expect(Math.abs(v - batched[i]![k]!)).toBeLessThan(1e-5));
        expect(alone!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    } finally {
      await model.close();
    }

    const tabular = await loadOnnxModel("tabular-mlp", { home, threads: 1, graphOptimization: "basic" });
    try {
      const runner = new TabularModel();
      runner.model = tabular;
      const out = await runner.predict([
        { dtype: "float32", shape: [2, 8], data: new Float32Array(16).fill(0.5) },
        { dtype: "float32", shape: [1, 8], data: new Float32Array(8).fill(-0.5) },
      ]);
      expect(out.map((o) => o.shape)).toEqual([[2, 3], [1, 3]]);
    } finally {
      await tabular.close();
    }
  });

  it("converts plain-array tensors and rejects bad feeds with the input named", async () => {
    const home = await tempDir();
    await new ModelStore(home).save([{ path: "model.onnx", data: buildTabular() }], { name: "t" });
    const model = await loadOnnxModel("t", { home });
    try {
      const out = await model.run({ x: { dtype: "float32", shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] } });
      expect(out["y"]!.shape).toEqual([1, 3]);
      expect(out["y"]!.data).toBeInstanceOf(Float32Array);
      await expect(model.run({ x: { dtype: "float32", shape: [2, 8], data: [1, 2, 3] } })).rejects.toThrow(/input x: 3 values do not fill shape \[2, 8\]/);
      await expect(model.run({ z: { dtype: "float32", shape: [1], data: [1] } })).rejects.toThrow(/has no input z/);
    } finally {
      await model.close();
    }
    await expect(model.run({ x: { dtype: "float32", shape: [1, 8], data: new Float32Array(8) } })).rejects.toThrow(/closed/);
  });
});

