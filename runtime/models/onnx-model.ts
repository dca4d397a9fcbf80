/**
 * Loads a model from the store as the sdk's `Model`: verifies every file against its record (size and
 * sha256), then opens an onnxruntime-node session on the ONNX file.
 */

import { join } from "node:path";
import ort from "onnxruntime-node";
import type { Model, Tensor } from "../../sdk/types.ts";
import { verifyFiles } from "./file-hash.ts";
import type { StoredModel } from "./model-record.ts";
import { ModelStore } from "./model-store.ts";
import { ModelStoreError } from "./model-store-error.ts";
import { fromOrtTensor, toOrtTensor } from "./tensor-convert.ts";

export interface LoadOnnxModelOptions {
  /** Store root; default `$BENTOC_HOME` or `~/.bentoc`. */
  home?: string;
  /** Intra-op threads; null or absent lets onnxruntime choose. */
  threads?: number | null;
  graphOptimization?: "all" | "basic" | "disabled";
  /** Skip the sha256 check (size is still checked). Default false. */
  skipVerify?: boolean;
  /**
   * Let onnxruntime's threads spin-wait for work after a run (its own default). Off by default here: in a
   * server the spinning threads take CPU from the event loop (HTTP, tokenising) between batches.
   */
  spinning?: boolean;
}

export interface OnnxModel extends Model {
  readonly record: StoredModel;
  close(): Promise<void>;
}

export async function loadOnnxModel(tag: string, options: LoadOnnxModelOptions = {}): Promise<OnnxModel> {
  const record = await new ModelStore(options.home).get(tag);
  await verifyFiles(record.tag, record.path, record.files, { hash: options.skipVerify !== true });
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: options.graphOptimization ?? "all",
    executionMode: "sequential",
  };
  if (options.spinning !== true) {
    const off = { allow_spinning: "0" };
    sessionOptions.extra = { session: { intra_op: off, inter_op: off } };
  }
  if (options.threads !== undefined && options.threads !== null) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    sessionOptions.intraOpNumThreads = options.threads;
    sessionOptions.interOpNumThreads = 1;
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(join(record.path, record.modelFile), sessionOptions);
  } catch (err) {
    throw new ModelStoreError("CORRUPT", `model ${record.tag}: onnxruntime could not load ${record.modelFile}: ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  return {
    tag: record.tag,
    path: record.path,
    record,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    async run(feeds: Record<string, Tensor>, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
      if (closed) throw new Error(`model ${record.tag} is closed`);
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        if (!session.inputNames.includes(name)) throw new TypeError(`model ${record.tag} has no input ${name} (inputs: ${session.inputNames.join(", ")})`);
        ortFeeds[name] = toOrtTensor(name, t);
      }
      const missing = session.inputNames.filter((n) => !(n in ortFeeds));
      if (missing.length > 0) throw new TypeError(`model ${record.tag}: missing input ${missing.join(", ")}`);
      const results = outputNames ? await session.run(ortFeeds, [...outputNames]) : await session.run(ortFeeds);
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(results)) out[name] = fromOrtTensor(name, t);
      return out;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}
