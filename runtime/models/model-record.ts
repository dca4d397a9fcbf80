/** What `model.json` holds for one saved model version, and what the store API returns. */

/** dtype names as onnxruntime-node spells them (a superset of the sdk's `DType`). */
export type TensorDType =
  | "float32"
  | "float64"
  | "float16"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool"
  | "string"
  | "unknown";

/** One graph input or output: a number for a fixed dimension, a string for a named dynamic one, null if unknown. */
export interface TensorSpec {
  name: string;
  dtype: TensorDType;
  shape: (number | string | null)[];
}

/** How a runner may call the model: whether calls can be batched, and along which dimension. */
export interface ModelSignature {
  batchable: boolean;
  batchDim: number;
}

export interface ModelFileEntry {
  /** Path relative to the model directory, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface ModelRecord {
  schemaVersion: 1;
  /** `name:version`. */
  tag: string;
  name: string;
  version: string;
  /** The ONNX file, relative to the model directory. */
  modelFile: string;
  labels: Record<string, string>;
  metadata: Record<string, unknown>;
  signatures: Record<string, ModelSignature>;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  files: ModelFileEntry[];
  /** Total bytes of `files`. */
  size: number;
  /** ISO 8601. */
  creationTime: string;
}

/** A record plus where it lives. */
export interface StoredModel extends ModelRecord {
  /** Absolute directory of the model's files. */
  path: string;
}

export const RECORD_FILE = "model.json";

/** Checks the shape of a parsed `model.json` (from disk or from an archive); returns a message or null. */
export function recordProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "not an object";
  const r = value as Record<string, unknown>;
  if (r["schemaVersion"] !== 1) return `unsupported schemaVersion ${JSON.stringify(r["schemaVersion"])}`;
  for (const key of ["tag", "name", "version", "modelFile", "creationTime"]) {
    if (typeof r[key] !== "string") return `missing or non-string "${key}"`;
  }
  if (r["tag"] !== `${String(r["name"])}:${String(r["version"])}`) return `"tag" does not match name and version`;
  for (const key of ["labels", "metadata", "signatures"]) {
    if (typeof r[key] !== "object" || r[key] === null || Array.isArray(r[key])) return `"${key}" must be an object`;
  }
  for (const key of ["inputs", "outputs", "files"]) if (!Array.isArray(r[key])) return `"${key}" must be an array`;
  for (const f of r["files"] as unknown[]) {
    const e = f as Partial<ModelFileEntry> | null;
    if (!e || typeof e.path !== "string" || typeof e.size !== "number" || typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      return `invalid file entry ${JSON.stringify(f)}`;
    }
  }
  if (!(r["files"] as ModelFileEntry[]).some((f) => f.path === r["modelFile"])) return `"modelFile" is not among "files"`;
  if (typeof r["size"] !== "number") return `"size" must be a number`;
  return null;
}
