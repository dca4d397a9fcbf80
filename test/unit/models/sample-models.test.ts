/**
 * The generated sample models run in onnxruntime-node with the contract the samples rely on, through
 * the store and `loadOnnxModel`, and the sample runner classes work on them. Uses the tiny MiniLM (same
 * graph as the full one), the real MiniLM tokenizer and the classifier fitted on the tiny encoder.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { loadOnnxModel, ModelStore, type OnnxModel } from "../../../runtime/models/index.ts";
import { MAX_TOKENS, SentenceEncoder } from "../../../samples/support-tickets/sentence-encoder.ts";
import { ClassifierRunner, EmbeddingRunner, LABELS } from "../../../samples/support-tickets/service.ts";
import { TabularModel } from "../../../samples/tabular/service.ts";
import { buildMiniLm } from "../../../scripts/models/minilm.ts";
import { DEFAULT_MINILM_ASSETS, prepareModels } from "../../../scripts/models/prepare.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
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
  rows.forEach((row, i) => {
    row.forEach((id: number, j: number) => {
      ids[i * S + j] = BigInt(id);
      mask[i * S + j] = 1n;
    });
  });
  return { input_ids: new ort.Tensor("int64", ids, [texts.length, S]), attention_mask: new ort.Tensor("int64", mask, [texts.length, S]) };
}

function rows(t: ort.Tensor): number[][] {
  const [n = 0, w = 0] = t.dims;
  const d = t.data as Float32Array;
  return Array.from({ length: n }, (_, i) => Array.from(d.subarray(i * w, (i + 1) * w)));
}

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));
const maxDiff = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

/** The tiny encoder, saved with the tokenizer files, as a runner would get it from the store. */
async function storedEncoder(home: string, name: string, pooled: boolean): Promise<OnnxModel> {
  await new ModelStore(home).save(
    [
      { path: "model.onnx", data: buildMiniLm("tiny", { pooled }) },
      { path: "tokenizer.json", from: join(DEFAULT_MINILM_ASSETS, "tokenizer.json") },
      { path: "tokenizer_config.json", from: join(DEFAULT_MINILM_ASSETS, "tokenizer_config.json") },
    ],
    { name, labels: pooled ? { variant: "tiny" } : {} },
  );
  return loadOnnxModel(name, { home, threads: 1 });
}

describe("tiny MiniLM sentence encoder", () => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(buildMiniLm("tiny"), { intraOpNumThreads: 1 });
  });

  it("has the inputs and output the support-tickets EmbeddingRunner uses", () => {
    expect(session.inputNames).toEqual(["input_ids", "attention_mask"]);
    expect(session.outputNames).toEqual(["sentence_embedding"]);
  });

  it("is deterministic: the same bytes every build", () => {
    expect(Buffer.compare(Buffer.from(buildMiniLm("tiny")), Buffer.from(buildMiniLm("tiny")))).toBe(0);
  });

  it("returns [batch, 32] unit-length embeddings that differ between texts", async () => {
    const out = (await session.run(encode(TICKETS)))["sentence_embedding"]!;
    expect(out.dims).toEqual([TICKETS.length, 32]);
    const e = rows(out);
    for (const v of e) expect(norm(v)).toBeCloseTo(1, 5);
    // Not degenerate: pairwise cosine similarities are below 1.
    for (let i = 1; i < e.length; i++) expect(e[0]!.reduce((s, v, k) => s + v * e[i]![k]!, 0)).toBeLessThan(0.999);
  });

  it("gives each text the same embedding alone, batched, and padded with masked tokens (< 1e-5)", async () => {
    const alone = await Promise.all(TICKETS.map(async (t) => rows((await session.run(encode([t])))["sentence_embedding"]!)[0]!));
    const batched = rows((await session.run(encode(TICKETS)))["sentence_embedding"]!);
    const padded = rows((await session.run(encode(TICKETS, 64)))["sentence_embedding"]!);
    for (let i = 0; i < TICKETS.length; i++) {
      expect(maxDiff(batched[i]!, alone[i]!)).toBeLessThan(1e-5);
      expect(maxDiff(padded[i]!, alone[i]!)).toBeLessThan(1e-5);
    }
  });

  it("changes its output when a real token changes (the mask is not hiding everything)", async () => {
    const a = rows((await session.run(encode(["refund my order"])))["sentence_embedding"]!)[0]!;
    const b = rows((await session.run(encode(["refund my account"])))["sentence_embedding"]!)[0]!;
    expect(maxDiff(a, b)).toBeGreaterThan(1e-4);
  });

  it("the Hugging Face shape of the same encoder (token_type_ids in, last_hidden_state out), pooled by SentenceEncoder, gives the same embeddings", async () => {
    const home = await tempDir();
    const pooled = await storedEncoder(home, "pooled", true);
    const perToken = await storedEncoder(home, "per-token", false);
    try {
      expect(perToken.inputNames).toEqual(["input_ids", "attention_mask", "token_type_ids"]);
      expect(perToken.outputNames).toEqual(["last_hidden_state"]);
      const a = await (await SentenceEncoder.load(pooled)).embed(TICKETS);
      const b = await (await SentenceEncoder.load(perToken)).embed(TICKETS);
      expect(b).toHaveLength(TICKETS.length);
      a.forEach((v, i) => {
        expect(maxDiff(v, b[i]!)).toBeLessThan(1e-5);
      });
      for (const v of b) for (const x of v) expect(Math.fround(x)).toBe(x); // float32 values: FP32 on the wire
    } finally {
      await Promise.all([pooled.close(), perToken.close()]);
    }
  });

  it("SentenceEncoder cuts long texts to 256 tokens, keeping [SEP], and refuses a model of another shape", async () => {
    const home = await tempDir();
    const model = await storedEncoder(home, "enc", true);
    try {
      const encoder = await SentenceEncoder.load(model);
      const ids = encoder.tokenize("word ".repeat(400));
      expect(ids).toHaveLength(MAX_TOKENS);
      expect(ids[0]).toBe(101);
      expect(ids[MAX_TOKENS - 1]).toBe(102);
      expect(await encoder.embed([])).toEqual([]);
    } finally {
      await model.close();
    }
    await new ModelStore(home).save(
      [
        { path: "model.onnx", data: buildTabular() },
        { path: "tokenizer.json", from: join(DEFAULT_MINILM_ASSETS, "tokenizer.json") },
        { path: "tokenizer_config.json", from: join(DEFAULT_MINILM_ASSETS, "tokenizer_config.json") },
      ],
      { name: "mlp" },
    );
    const mlp = await loadOnnxModel("mlp", { home });
    try {
      await expect(SentenceEncoder.load(mlp)).rejects.toThrow(/model mlp:\w+ has inputs \[x\]; a sentence encoder takes input_ids and attention_mask/);
    } finally {
      await mlp.close();
    }
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
    one.forEach((v, i) => {
      expect(Math.abs(v - all[2]![i]!)).toBeLessThan(1e-6);
    });
    await session.release();
  });
});

describe("sample runners over models from the store", () => {
  it("prepare-models stores them once; the support-tickets runners embed and classify batched == one by one", async () => {
    const home = await tempDir();
    const lines: string[] = [];
    const first = await prepareModels({ home, variant: "tiny", only: ["support-tickets", "tabular"], log: (l) => lines.push(l) });
    expect(first.map((r) => [r.name, r.status])).toEqual([
      ["support-tickets-minilm", "saved"],
      ["support-tickets-classifier", "saved"],
      ["tabular-mlp", "saved"],
    ]);
    const again = await prepareModels({ home, variant: "tiny", only: ["support-tickets", "tabular"], log: (l) => lines.push(l) });
    expect(again.map((r) => r.status)).toEqual(["up to date", "up to date", "up to date"]);
    expect(again.map((r) => r.tag)).toEqual(first.map((r) => r.tag));
    expect(lines).toHaveLength(6);

    const store = new ModelStore(home);
    const encoderRecord = await store.get("support-tickets-minilm:latest");
    expect(encoderRecord.labels).toMatchObject({ variant: "tiny", weights: "synthetic", task: "sentence-embedding" });
    expect(encoderRecord.files.map((f) => f.path)).toEqual(["model.onnx", "tokenizer.json", "tokenizer_config.json"]);
    expect(encoderRecord.inputs).toEqual([
      { name: "input_ids", dtype: "int64", shape: ["batch", "sequence"] },
      { name: "attention_mask", dtype: "int64", shape: ["batch", "sequence"] },
    ]);
    expect(encoderRecord.outputs).toEqual([{ name: "sentence_embedding", dtype: "float32", shape: ["batch", 32] }]);

    const classifierRecord = await store.get("support-tickets-classifier:latest");
    expect(classifierRecord.labels).toMatchObject({ variant: "tiny", weights: "fitted", task: "text-classification" });
    expect(classifierRecord.files.map((f) => f.path)).toEqual(["classifier.json", "model.onnx"]);
    expect(classifierRecord.inputs).toEqual([{ name: "embedding", dtype: "float32", shape: ["batch", 32] }]);
    expect(classifierRecord.outputs).toEqual([{ name: "probs", dtype: "float32", shape: ["batch", 4] }]);
    const meta = classifierRecord.metadata as Record<string, unknown>;
    expect(meta).toMatchObject({
      encoder: encoderRecord.tag,
      dimensions: 32,
      classes: [...LABELS],
      examples: 256,
      trainSize: 192,
      heldOutSize: 64,
      seed: 20250815,
    });
    expect(meta["heldOutCorrect"]).toBe(Math.round((meta["heldOutAccuracy"] as number) * 64));
    expect(JSON.parse(await readFile(join(classifierRecord.path, "classifier.json"), "utf8"))).toEqual({ labels: [...LABELS], dimensions: 32 });

    const encoderModel: OnnxModel = await loadOnnxModel("support-tickets-minilm", { home, threads: 1 });
    const classifierModel: OnnxModel = await loadOnnxModel("support-tickets-classifier", { home, threads: 1 });
    try {
      const embedding = new EmbeddingRunner();
      embedding.model = encoderModel;
      await embedding.setup();
      const classifier = new ClassifierRunner();
      classifier.model = classifierModel;
      await classifier.setup();
      const embeddings = await embedding.embed(TICKETS);
      const probs = await classifier.classify(embeddings);
      expect(probs).toHaveLength(TICKETS.length);
      for (let i = 0; i < TICKETS.length; i++) {
        const [alone] = await embedding.embed([TICKETS[i]!]);
        expect(maxDiff(alone!, embeddings[i]!)).toBeLessThan(1e-5);
        const [p] = await classifier.classify([alone!]);
        expect(maxDiff(p!, probs[i]!)).toBeLessThan(1e-5);
        expect(p!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
      // An embedding of another width is refused, naming both widths.
      await expect(classifier.classify([[0.5, 0.5]])).rejects.toThrow(/fitted on 32-dimensional embeddings, got 2/);
    } finally {
      await Promise.all([encoderModel.close(), classifierModel.close()]);
    }

    const tabular = await loadOnnxModel("tabular-mlp", { home, threads: 1, graphOptimization: "basic" });
    try {
      const runner = new TabularModel();
      runner.model = tabular;
      const out = await runner.predict([
        { dtype: "float32", shape: [2, 8], data: new Float32Array(16).fill(0.5) },
        { dtype: "float32", shape: [1, 8], data: new Float32Array(8).fill(-0.5) },
      ]);
      expect(out.map((o) => o.shape)).toEqual([
        [2, 3],
        [1, 3],
      ]);
    } finally {
      await tabular.close();
    }
  });

  it("fits the classifier on another encoder from the store (--encoder): a Hugging Face-shaped one scores as the pooled one", async () => {
    const home = await tempDir();
    const pooled = await prepareModels({ home, variant: "tiny", only: ["support-tickets"], log: () => {} });
    const store = new ModelStore(home);
    const reference = (await store.get("support-tickets-classifier:latest")).metadata;
    await (await storedEncoder(home, "hf-minilm", false)).close();
    const fitted = await prepareModels({ home, only: ["support-tickets"], encoder: "hf-minilm:latest", log: () => {} });
    expect(fitted.map((r) => r.name)).toEqual(["support-tickets-classifier"]);
    expect(fitted[0]!.tag).not.toBe(pooled[1]!.tag);
    const record = await store.get("support-tickets-classifier:latest");
    expect(record.labels["variant"]).toBe("custom");
    expect(record.metadata["encoder"]).toBe((await store.get("hf-minilm")).tag);
    // Same weights, pooled by the runner instead of the graph: the same held-out answers.
    expect(record.metadata["heldOutCorrect"]).toBe(reference["heldOutCorrect"]);
    expect(record.metadata["heldOutConfusion"]).toEqual(reference["heldOutConfusion"]);
    expect((await prepareModels({ home, only: ["support-tickets"], encoder: "hf-minilm:latest", log: () => {} }))[0]!.status).toBe("up to date");
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
