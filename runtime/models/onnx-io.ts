/** Reads the graph inputs and outputs (names, dtypes, shapes) of an ONNX file with onnx-proto. */
import { readFile } from "node:fs/promises";
import type onnxProto from "onnx-proto";
import type { TensorDType, TensorSpec } from "./model-record.ts";
import { ModelStoreError } from "./model-store-error.ts";

const ELEM_TYPES: Record<number, TensorDType> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
};

export interface OnnxIo {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  opset: number | null;
}

export async function readOnnxIo(file: string): Promise<OnnxIo> {
  // onnx-proto is only needed when saving; a served bento never loads it.
  const { default: proto } = await import("onnx-proto");
  const bytes = await readFile(file);
  let model: ReturnType<typeof proto.onnx.ModelProto.decode>;
  try {
    model = proto.onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ModelStoreError("INVALID_INPUT", `${file} is not a valid ONNX model: ${(err as Error).message}`, { cause: err });
  }
  const graph = model.graph;
  if (!graph) throw new ModelStoreError("INVALID_INPUT", `${file} is not a valid ONNX model: it has no graph`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const spec = (v: onnxProto.onnx.IValueInfoProto): TensorSpec => {
    const tensor = v.type?.tensorType;
    const dims = tensor?.shape?.dim ?? [];
    return {
      name: v.name ?? "",
      dtype: ELEM_TYPES[tensor?.elemType ?? 0] ?? "unknown",
      shape: dims.map((d) => {
        if (d.dimParam) return d.dimParam;
        if (d.dimValue !== null && d.dimValue !== undefined && Number(d.dimValue) > 0) return Number(d.dimValue);
        return null;
      }),
    };
  };
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version;
  return {
    // Old exporters list initializers as graph inputs too; they are not inputs a caller feeds.
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? "")).map(spec),
    outputs: (graph.output ?? []).map(spec),
    opset: opset === undefined || opset === null ? null : Number(opset),
  };
}
