/**
 * How a batchable method's items (the array it takes or returns) map onto one V2 tensor, so both any V2
 * client and bentoc's own API server can call a remote runner. The kind comes from the method's item
 * schema in the manifest; values that do not fit the compact form fall back to JSON, never fail:
 *
 * | item kind (schema)          | tensor                                                                |
 * | --------------------------- | --------------------------------------------------------------------- |
 * | string                      | BYTES [N], UTF-8 per element                                          |
 * | number                      | FP32 [N] (FP64 when a value is not exactly a float32)                 |
 * | number[] (equal lengths K)  | FP32 [N, K] (FP64 likewise); ragged → JSON                            |
 * | boolean                     | BOOL [N]                                                              |
 * | NdArray                     | items concatenated along dim 0: [sum of rows, ...rest], dtype mapped; |
 * |                             | `parameters.bentoc_rows` = rows per item (absent: the whole tensor is |
 * |                             | one item). Mixed dtypes/trailing dims or string dtype → JSON          |
 * | anything else (objects)     | BYTES [N], one JSON document per element,                             |
 * |                             | `parameters.content_type = "application/json"` (typed arrays kept)    |
 */
import { resolveRef } from "../../contract/schema-ref.ts";
import type { DType } from "../../sdk/io.ts";
import type { JsonSchema } from "../../sdk/manifest.ts";
import type { NdArray } from "../../sdk/types.ts";
import { BadRequest } from "../errors/http-errors.ts";
import { parseTyped, stringifyTyped } from "./typed-json.ts";
import { elementCount } from "./v2-codec.ts";
import type { V2Datatype, V2Tensor, V2TensorData } from "./v2-types.ts";

export type ItemKind = "string" | "number" | "numbers" | "boolean" | "ndarray" | "json";

export const JSON_CONTENT_TYPE = "application/json";
export const ROWS_PARAMETER = "bentoc_rows";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function typeOf(schema: JsonSchema): string | undefined {
  const t = schema["type"];
  if (typeof t === "string") return t;
  if (Array.isArray(schema["enum"]) && schema["enum"].length > 0 && schema["enum"].every((v) => typeof v === "string")) return "string";
  return undefined;
}

/** The item kind of a batchable method's input or output schema (one item's schema). */
export function itemKindOf(schema: JsonSchema, defs: Record<string, JsonSchema> = {}): ItemKind {
  const { schema: s, name } = resolveRef(schema, defs);
  const props = s["properties"];
  if (name === "NdArray" || name === "Tensor" || (props && typeof props === "object" && ["dtype", "shape", "data"].every((k) => k in props))) return "ndarray";
  switch (typeOf(s)) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "array": {
      const items = s["items"];
      if (items && typeof items === "object") {
        const t = typeOf(resolveRef(items as JsonSchema, defs).schema);
        if (t === "number" || t === "integer") return "numbers";
      }
      return "json";
    }
    default:
      return "json";
  }
}

const DTYPE_TO_V2: Partial<Record<DType, V2Datatype>> = {
  float32: "FP32",
  float64: "FP64",
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  uint8: "UINT8",
  bool: "BOOL",
};

const V2_TO_DTYPE: Partial<Record<V2Datatype, DType>> = {
  FP32: "float32",
  FP64: "float64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  UINT8: "uint8",
  BOOL: "bool",
};

/** The V2 datatype an NdArray dtype travels as (undefined: not as a numeric tensor). */
export function v2DatatypeOf(dtype: string): V2Datatype | undefined {
  return DTYPE_TO_V2[dtype as DType];
}

function isNdArray(v: unknown): v is NdArray {
  if (v === null || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return typeof o["dtype"] === "string" && Array.isArray(o["shape"]) && (Array.isArray(o["data"]) || ArrayBuffer.isView(o["data"]));
}

function allFloat32(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Math.fround(v) !== v && !Number.isNaN(v)) return false;
  }
  return true;
}

function floatTensor(name: string, values: number[], shape: number[]): V2Tensor {
  const f32 = allFloat32(values);
  return { name, datatype: f32 ? "FP32" : "FP64", shape, data: f32 ? Float32Array.from(values) : Float64Array.from(values) };
}

function jsonTensor(name: string, items: unknown[]): V2Tensor {
  return {
    name,
    datatype: "BYTES",
    shape: [items.length],
    parameters: { content_type: JSON_CONTENT_TYPE },
    data: items.map((v) => utf8.encode(stringifyTyped(v === undefined ? null : v))),
  };
}

/** Typed data of an NdArray in its V2 datatype (copies plain arrays). */
function ndData(a: NdArray, datatype: V2Datatype): V2TensorData {
  const d = a.data as ArrayLike<unknown>;
  switch (datatype) {
    case "FP32":
      return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
    case "FP64":
      return d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>);
    case "INT8":
      return d instanceof Int8Array ? d : Int8Array.from(d as ArrayLike<number>);
    case "INT16":
      return d instanceof Int16Array ? d : Int16Array.from(d as ArrayLike<number>);
    case "INT32":
      return d instanceof Int32Array ? d : Int32Array.from(d as ArrayLike<number>);
    case "INT64":
      return d instanceof BigInt64Array ? d : BigInt64Array.from(d as ArrayLike<number | bigint>, (v) => BigInt(v));
    case "UINT8":
      return d instanceof Uint8Array ? d : Uint8Array.from(d as ArrayLike<number>);
    case "BOOL":
      return Uint8Array.from(d, (v) => (v ? 1 : 0));
    default:
      throw new TypeError(`no NdArray data for ${datatype}`);
  }
}

function concatTyped(parts: V2TensorData[], total: number): V2TensorData {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0] as Exclude<V2TensorData, Uint8Array[]>;
  const out = new (first.constructor as new (n: number) => Exclude<V2TensorData, Uint8Array[]>)(total);
  let offset = 0;
  for (const p of parts as Exclude<V2TensorData, Uint8Array[]>[]) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, offset);
    offset += p.length;
  }
  return out;
}

function ndarrayTensor(name: string, items: unknown[]): V2Tensor | undefined {
  if (!items.every(isNdArray)) return undefined;
  const arrays = items as NdArray[];
  const first = arrays[0]!;
  const datatype = v2DatatypeOf(first.dtype);
  if (!datatype) return undefined;
  const rest = first.shape.slice(1);
  const rows: number[] = [];
  for (const a of arrays) {
    if (a.dtype !== first.dtype || a.shape.length < 1 || a.shape.length !== first.shape.length) return undefined;
    if (!a.shape.every((d, i) => Number.isInteger(d) && d >= 0 && (i === 0 || d === rest[i - 1]))) return undefined;
    if (a.data.length !== elementCount(a.shape)) return undefined;
    rows.push(a.shape[0]!);
  }
  const total = rows.reduce((n, r) => n + r, 0);
  const data = concatTyped(
    arrays.map((a) => ndData(a, datatype)),
    total * elementCount(rest),
  );
  return { name, datatype, shape: [total, ...rest], parameters: { [ROWS_PARAMETER]: rows }, data };
}

/** Encodes N items as one tensor named `name` (see the table above). */
export function itemsToTensor(name: string, items: unknown[], kind: ItemKind): V2Tensor {
  switch (kind) {
    case "string":
      if (items.every((v) => typeof v === "string"))
        return { name, datatype: "BYTES", shape: [items.length], data: (items as string[]).map((s) => utf8.encode(s)) };
      break;
    case "number":
      if (items.every((v) => typeof v === "number")) return floatTensor(name, items as number[], [items.length]);
      break;
    case "numbers": {
      const first = items[0];
      if (Array.isArray(first) && items.every((v) => Array.isArray(v) && v.length === first.length && v.every((x) => typeof x === "number"))) {
        return floatTensor(name, (items as number[][]).flat(), [items.length, first.length]);
      }
      break;
    }
    case "boolean":
      if (items.every((v) => typeof v === "boolean"))
        return { name, datatype: "BOOL", shape: [items.length], data: Uint8Array.from(items as boolean[], (b) => (b ? 1 : 0)) };
      break;
    case "ndarray": {
      const t = ndarrayTensor(name, items);
      if (t) return t;
      break;
    }
    case "json":
      break;
  }
  return jsonTensor(name, items);
}

function bad(name: string, message: string): BadRequest {
  return new BadRequest(`tensor ${name}: ${message}`, "invalid_input", [{ path: `/inputs/${name}`, message }]);
}

function numbersOf(t: V2Tensor): number[] {
  const d = t.data as Exclude<V2TensorData, Uint8Array[]>;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, Number);
  return Array.from(d as ArrayLike<number>);
}

function rowsOf(t: V2Tensor): number[] | undefined {
  const rows = t.parameters?.[ROWS_PARAMETER];
  if (rows === undefined) return undefined;
  if (!Array.isArray(rows) || !rows.every((r) => typeof r === "number" && Number.isInteger(r) && r >= 0)) {
    throw bad(t.name, `parameters.${ROWS_PARAMETER} must be an array of row counts`);
  }
  const sum = (rows as number[]).reduce((n, r) => n + r, 0);
  if (t.shape.length < 1 || sum !== t.shape[0]) throw bad(t.name, `parameters.${ROWS_PARAMETER} sums to ${sum} but dimension 0 is ${t.shape[0] ?? "missing"}`);
  return rows as number[];
}

/** Splits a numeric tensor along dim 0 into NdArrays of `rows[i]` rows each. */
function ndDtype(t: V2Tensor): DType {
  const dtype = V2_TO_DTYPE[t.datatype];
  if (!dtype) throw bad(t.name, `datatype ${t.datatype} cannot be an NdArray (use ${Object.keys(V2_TO_DTYPE).join(", ")} or BYTES)`);
  return dtype;
}

function splitNdArrays(t: V2Tensor, rows: number[]): NdArray[] {
  const dtype = ndDtype(t);
  const rest = t.shape.slice(1);
  const width = elementCount(rest);
  const d = t.data as Exclude<V2TensorData, Uint8Array[]>;
  const out: NdArray[] = [];
  let row = 0;
  for (const n of rows) {
    const part = (rows.length === 1 ? d : d.slice(row * width, (row + n) * width)) as NdArray["data"];
    out.push({ dtype, shape: [n, ...rest], data: part });
    row += n;
  }
  return out;
}

/** Nested plain arrays of the tensor's rows along dim 0 (scalars for rank 1). */
function rowsAsArrays(t: V2Tensor): unknown[] {
  const flat: unknown[] = t.datatype === "BOOL" ? Array.from(t.data as Uint8Array, (v) => v !== 0) : numbersOf(t);
  if (t.shape.length <= 1) return flat;
  const nest = (offset: number, dims: number[]): unknown => {
    if (dims.length === 0) return flat[offset];
    const [d, ...more] = dims;
    const step = elementCount(more);
    return Array.from({ length: d! }, (_, i) => nest(offset + i * step, more));
  };
  const [n, ...more] = t.shape;
  const step = elementCount(more);
  return Array.from({ length: n! }, (_, i) => nest(i * step, more));
}

/** Decodes a tensor back into items; a tensor that cannot hold `kind` items is a 400. */
export function tensorToItems(t: V2Tensor, kind: ItemKind): unknown[] {
  if (t.datatype === "BYTES") {
    const elements = t.data as Uint8Array[];
    const isJson = t.parameters?.["content_type"] === JSON_CONTENT_TYPE;
    if (isJson || kind === "json" || kind === "ndarray" || kind === "numbers" || kind === "number" || kind === "boolean") {
      return elements.map((b, i) => {
        const text = utf8Decoder.decode(b);
        try {
          return parseTyped(text);
        } catch {
          if (!isJson && kind === "json") return text;
          throw bad(t.name, `element ${i} is not valid JSON`);
        }
      });
    }
    return elements.map((b) => utf8Decoder.decode(b));
  }
  switch (kind) {
    case "string":
      throw bad(t.name, `this method takes strings: send a BYTES tensor, not ${t.datatype}`);
    case "ndarray": {
      const rows = rowsOf(t);
      if (rows) return splitNdArrays(t, rows);
      // No row counts (a plain V2 client): the whole tensor is one item.
      return [{ dtype: ndDtype(t), shape: [...t.shape], data: t.data as NdArray["data"] }];
    }
    case "number":
      if (t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1))
        throw bad(t.name, `this method takes numbers: send shape [N] or [N, 1], not [${t.shape.join(", ")}]`);
      return t.datatype === "BOOL" ? rowsAsArrays(t) : numbersOf(t);
    case "numbers": {
      if (t.shape.length < 2) return [numbersOf(t)];
      const values = numbersOf(t);
      const n = t.shape[0]!;
      const width = elementCount(t.shape.slice(1));
      return Array.from({ length: n }, (_, i) => values.slice(i * width, (i + 1) * width));
    }
    case "boolean":
    case "json":
      return rowsAsArrays(t);
  }
}

/** The V2 metadata (datatype, shape with -1 for free dims) of `kind` items, for `GET /v2/models/{name}`. */
export function tensorMetadataOf(kind: ItemKind, ndarray?: { datatype: V2Datatype; shape: number[] }): { datatype: V2Datatype; shape: number[] } {
  switch (kind) {
    case "string":
    case "json":
      return { datatype: "BYTES", shape: [-1] };
    case "number":
      return { datatype: "FP32", shape: [-1] };
    case "numbers":
      return { datatype: "FP32", shape: [-1, -1] };
    case "boolean":
      return { datatype: "BOOL", shape: [-1] };
    case "ndarray":
      return ndarray ?? { datatype: "FP32", shape: [-1, -1] };
  }
}
