/**
 * The V2 "models" one runner exposes: one per batchable method, named `<runner>.<method>`; a runner's
 * first (for a single-method runner: only) method also answers to the plain `<runner>`, which is its
 * canonical name then. Each model takes one input tensor `input` and gives one output tensor `output`;
 * their items map as item-tensors.ts describes.
 */
import type { JsonSchema, RunnerManifest, RunnerMethodManifest } from "../../sdk/manifest.ts";
import { type ItemKind, itemKindOf, tensorMetadataOf, v2DatatypeOf } from "./item-tensors.ts";
import type { V2Datatype, V2ModelMetadata } from "./v2-types.ts";

export const INPUT_TENSOR = "input";
export const OUTPUT_TENSOR = "output";

export interface RunnerModel {
  /** Canonical V2 model name. */
  name: string;
  runner: RunnerManifest;
  method: RunnerMethodManifest;
  inputKind: ItemKind;
  outputKind: ItemKind;
}

/** Canonical V2 model name of `method` of `runner`. */
export function modelNameFor(runner: RunnerManifest, method: string): string {
  return runner.methods.length === 1 ? runner.name : `${runner.name}.${method}`;
}

/** Every name a V2 client may use for this runner's methods → the method it reaches. */
export function runnerModels(runner: RunnerManifest, defs: Record<string, JsonSchema>): Map<string, RunnerModel> {
  const out = new Map<string, RunnerModel>();
  for (const m of runner.methods) {
    const model: RunnerModel = {
      name: modelNameFor(runner, m.name),
      runner,
      method: m,
      inputKind: itemKindOf(m.input, defs),
      outputKind: itemKindOf(m.output, defs),
    };
    out.set(`${runner.name}.${m.name}`, model);
    if (!out.has(runner.name)) out.set(runner.name, model);
  }
  return out;
}

/** A graph tensor as the model store records it (for NdArray items the ONNX model's own datatype and shape). */
export interface GraphTensor {
  dtype: string;
  shape: (number | string | null)[];
}

function graphMetadata(t: GraphTensor | undefined): { datatype: V2Datatype; shape: number[] } | undefined {
  if (!t) return undefined;
  const datatype = v2DatatypeOf(t.dtype);
  if (!datatype) return undefined;
  return { datatype, shape: t.shape.map((d, i) => (i === 0 || typeof d !== "number" ? -1 : d)) };
}

export function modelMetadata(model: RunnerModel, info: { version: string; graph?: { inputs: GraphTensor[]; outputs: GraphTensor[] } }): V2ModelMetadata {
  const g = info.graph;
  const input = tensorMetadataOf(model.inputKind, g?.inputs.length === 1 ? graphMetadata(g.inputs[0]) : undefined);
  const output = tensorMetadataOf(model.outputKind, g?.outputs.length === 1 ? graphMetadata(g.outputs[0]) : undefined);
  return {
    name: model.name,
    versions: [info.version],
    platform: model.runner.model ? "onnxruntime" : "bentoc",
    inputs: [{ name: INPUT_TENSOR, ...input }],
    outputs: [{ name: OUTPUT_TENSOR, ...output }],
    parameters: {
      runner: model.runner.name,
      method: model.method.name,
      model: model.runner.model,
      max_batch_size: model.method.maxBatchSize,
      input_items: model.inputKind,
      output_items: model.outputKind,
    },
  };
}
