/**
 * Texts → sentence embeddings with a MiniLM-style encoder, as sentence-transformers computes them: tokenise
 * with the model's own `tokenizer.json` (at most 256 tokens, like all-MiniLM-L6-v2), pad each batch to its
 * longest text, run the model and, when it gives per-token states, average them over the real tokens and
 * L2-normalise. The EmbeddingRunner uses it, and so does the fit of the classifier
 * (scripts/models/ticket-classifier.ts), so the classifier is fitted on exactly the embeddings it serves.
 *
 * Model shapes accepted (both as exported by common tools):
 * - inputs `input_ids` and `attention_mask` (int64 [batch, seq]), and `token_type_ids` if the model has it
 *   (fed zeros: one segment);
 * - output `sentence_embedding` [batch, hidden] (pooled and normalised in the graph, as our generated
 *   model does), or else `last_hidden_state` / `token_embeddings` [batch, seq, hidden] (pooled here).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import type { Model } from "bentoc";

/** all-MiniLM-L6-v2's `max_seq_length`: longer texts keep their first 255 tokens and the closing [SEP]. */
export const MAX_TOKENS = 256;

export type EncoderModel = Pick<Model, "tag" | "path" | "inputNames" | "outputNames" | "run">;

const POOLED_OUTPUT = "sentence_embedding";
const TOKEN_OUTPUTS = ["last_hidden_state", "token_embeddings"] as const;
const REQUIRED_INPUTS = ["input_ids", "attention_mask"] as const;
const OPTIONAL_INPUT = "token_type_ids";

/** The tokenizer saved with the model; the shipped file's fixed 128-token padding is turned off (we pad per batch). */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(await readFile(join(dir, "tokenizer_config.json"), "utf8"));
  json.padding = null;
  return new Tokenizer(json, config);
}

export class SentenceEncoder {
  private readonly output: string;
  private readonly pooled: boolean;
  private readonly tokenTypes: boolean;

  private constructor(
    private readonly model: EncoderModel,
    private readonly tokenizer: Tokenizer,
  ) {
    const missing = REQUIRED_INPUTS.filter((n) => !model.inputNames.includes(n));
    const extra = model.inputNames.filter((n) => !(REQUIRED_INPUTS as readonly string[]).includes(n) && n !== OPTIONAL_INPUT);
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `model ${model.tag} has inputs [${model.inputNames.join(", ")}]; a sentence encoder takes input_ids and attention_mask (and optionally token_type_ids)`,
      );
    }
    const token = TOKEN_OUTPUTS.find((n) => model.outputNames.includes(n));
    if (model.outputNames.includes(POOLED_OUTPUT)) this.output = POOLED_OUTPUT;
    else if (token) this.output = token;
    else
      throw new Error(
        `model ${model.tag} has outputs [${model.outputNames.join(", ")}]; a sentence encoder gives ${POOLED_OUTPUT} or ${TOKEN_OUTPUTS.join(" / ")}`,
      );
    this.pooled = this.output === POOLED_OUTPUT;
    this.tokenTypes = model.inputNames.includes(OPTIONAL_INPUT);
  }

  /** The encoder in `model`, with the tokenizer files stored beside it. */
  static async load(model: EncoderModel): Promise<SentenceEncoder> {
    return new SentenceEncoder(model, await loadTokenizer(model.path));
  }

  /** Token ids with [CLS] and [SEP], cut to MAX_TOKENS. */
  tokenize(text: string): number[] {
    const ids: number[] = this.tokenizer.encode(text, { add_special_tokens: true }).ids;
    return ids.length <= MAX_TOKENS ? ids : [...ids.slice(0, MAX_TOKENS - 1), ids[ids.length - 1]!];
  }

  /** One unit-length embedding per text, in order. */
  async embed(texts: readonly string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const rows = texts.map((t) => this.tokenize(t));
    const seq = Math.max(...rows.map((r) => r.length));
    const n = texts.length;
    const ids = new BigInt64Array(n * seq);
    const mask = new BigInt64Array(n * seq);
    rows.forEach((row, i) => {
      row.forEach((id, j) => {
        ids[i * seq + j] = BigInt(id);
        mask[i * seq + j] = 1n;
      });
    });
    const shape = [n, seq];
    const feeds: Parameters<EncoderModel["run"]>[0] = {
      input_ids: { dtype: "int64", shape, data: ids },
      attention_mask: { dtype: "int64", shape, data: mask },
    };
    if (this.tokenTypes) feeds[OPTIONAL_INPUT] = { dtype: "int64", shape, data: new BigInt64Array(n * seq) };
    const out = (await this.model.run(feeds, [this.output]))[this.output];
    if (!out) throw new Error(`model ${this.model.tag} gave no ${this.output}`);
    const data = out.data as Float32Array;
    if (this.pooled) {
      const width = out.shape[1] ?? 0;
      return rows.map((_, i) => Array.from(data.subarray(i * width, (i + 1) * width)));
    }
    const width = out.shape[2] ?? 0;
    return rows.map((row, i) => meanPooledUnit(data, i * seq * width, row.length, width));
  }
}

/** Mean of the first `tokens` rows of width `width` at `offset`, scaled to unit length (float32 values). */
function meanPooledUnit(data: Float32Array, offset: number, tokens: number, width: number): number[] {
  const mean = new Float64Array(width);
  for (let t = 0; t < tokens; t++) for (let k = 0; k < width; k++) mean[k]! += data[offset + t * width + k]!;
  let norm = 0;
  for (let k = 0; k < width; k++) {
    mean[k]! /= Math.max(tokens, 1e-9);
    norm += mean[k]! * mean[k]!;
  }
  const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
  return Array.from(mean, (v) => Math.fround(v * scale));
}
