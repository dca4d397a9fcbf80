/**
 * NdArray on the wire: JSON `{ dtype, shape, data }` (data flat or nested) or raw little-endian bytes
 * (`application/octet-stream` with `x-dtype` and `x-shape` headers). Decoded `data` is a typed array of
 * the dtype (`int64` → BigInt64Array; `bool` → boolean[]; `string` → string[]).
 */
import type { DType } from "../../sdk/io.ts";
import type { NdArray, TypedArray } from "../../sdk/types.ts";
import { BadRequest } from "../errors/http-errors.ts";

export interface NdArraySpec {
  dtype?: DType;
  shape?: readonly (number | null)[];
}

const DTYPES: readonly DType[] = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string"];

const BYTES: Partial<Record<DType, number>> = { float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8, uint8: 1, bool: 1 };

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
};

function bad(path: string, message: string): BadRequest {
  return new BadRequest(`invalid ndarray: ${path} ${message}`, "invalid_input", [{ path, message }]);
}

function resolveDtype(given: unknown, spec: NdArraySpec, path: string): DType {
  if (given === undefined || given === null || given === "") {
    if (spec.dtype) return spec.dtype;
    throw bad(path, "is required");
  }
  if (typeof given !== "string" || !DTYPES.includes(given as DType)) throw bad(path, `must be one of ${DTYPES.join(", ")}`);
  if (spec.dtype && given !== spec.dtype) throw bad(path, `must be ${spec.dtype}`);
  return given as DType;
}

function checkShape(shape: unknown, spec: NdArraySpec, path: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(path, "must be an array of non-negative integers");
  if (spec.shape) {
    if (shape.length !== spec.shape.length) throw bad(path, `must have ${spec.shape.length} dimensions, got ${shape.length}`);
    spec.shape.forEach((want, i) => {
      if (want !== null && want >= 0 && shape[i] !== want) throw bad(`${path}/${i}`, `must be ${want}, got ${shape[i]}`);
    });
  }
  return shape as number[];
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function flatten(data: unknown[], out: unknown[]): void {
  for (const v of data)
    if (Array.isArray(v)) flatten(v, out);
    else out.push(v);
}

/** Builds an NdArray from its JSON form (already parsed). */
export function ndarrayFromJson(value: unknown, spec: NdArraySpec): NdArray {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("", "must be an object { dtype, shape, data }");
  const v = value as Record<string, unknown>;
  const dtype = resolveDtype(v["dtype"], spec, "/dtype");
  if (!Array.isArray(v["data"])) throw bad("/data", "must be an array");
  let flat: unknown[] = v["data"];
  if (flat.some(Array.isArray)) {
    flat = [];
    flatten(v["data"], flat);
  }
  const shape = checkShape(v["shape"] ?? [flat.length], spec, "/shape");
  if (size(shape) !== flat.length) throw bad("/data", `has ${flat.length} elements but shape [${shape.join(", ")}] needs ${size(shape)}`);
  return { dtype, shape, data: toTyped(dtype, flat) };
}

function toTyped(dtype: DType, flat: unknown[]): NdArray["data"] {
  const n = flat.length;
  const elementError = (i: number, what: string): BadRequest => bad(`/data/${i}`, `must be ${what}`);
  switch (dtype) {
    case "string":
      flat.forEach((x, i) => {
        if (typeof x !== "string") throw elementError(i, "a string");
      });
      return flat as string[];
    case "bool":
      flat.forEach((x, i) => {
        if (typeof x !== "boolean") throw elementError(i, "a boolean");
      });
      return flat as boolean[];
    case "int64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const x = flat[i];
        if (typeof x === "number" && Number.isInteger(x)) out[i] = BigInt(x);
        else if (typeof x === "string" && /^-?\d+$/.test(x)) out[i] = BigInt(x);
        else throw elementError(i, "an integer");
      }
      return out;
    }
    default: {
      const out = makeTyped(dtype, n);
      const range = INT_RANGE[dtype];
      for (let i = 0; i < n; i++) {
        const x = flat[i];
        if (typeof x !== "number" || !Number.isFinite(x)) throw elementError(i, "a finite number");
        if (range && (!Number.isInteger(x) || x < range[0] || x > range[1])) throw elementError(i, `an integer in [${range[0]}, ${range[1]}]`);
        (out as Float64Array)[i] = x;
      }
      return out;
    }
  }
}

function makeTyped(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int8":
      return new Int8Array(n);
    case "int16":
      return new Int16Array(n);
    case "int32":
      return new Int32Array(n);
    case "int64":
      return new BigInt64Array(n);
    default:
      return new Uint8Array(n);
  }
}

/** Parses an `x-shape` header: `2,8`, `[2,8]` or `2x8`. */
export function parseShapeHeader(text: string | undefined): unknown {
  if (text === undefined || text.trim() === "") return undefined;
  const parts = text
    .replace(/^\s*\[|\]\s*$/g, "")
    .split(/[,x]/)
    .map((s) => s.trim());
  if (parts.length === 1 && parts[0] === "") return [];
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
}

/** Builds an NdArray from raw little-endian bytes plus `x-dtype` / `x-shape`. */
export function ndarrayFromBinary(bytes: Uint8Array, dtypeHeader: string | undefined, shapeHeader: string | undefined, spec: NdArraySpec): NdArray {
  const dtype = resolveDtype(dtypeHeader, spec, "x-dtype");
  const width = BYTES[dtype];
  if (width === undefined) throw bad("x-dtype", `${dtype} has no binary form; send JSON`);
  if (bytes.byteLength % width !== 0) throw bad("", `body length ${bytes.byteLength} is not a multiple of ${width} (${dtype})`);
  const count = bytes.byteLength / width;
  const shapeValue = parseShapeHeader(shapeHeader) ?? [count];
  const shape = checkShape(shapeValue, spec, "x-shape");
  if (size(shape) !== count) throw bad("", `has ${count} ${dtype} elements but shape [${shape.join(", ")}] needs ${size(shape)}`);
  const copy = new Uint8Array(bytes).buffer; // aligned, exact-size, owned copy (Buffer#slice would not copy)
  if (dtype === "bool") return { dtype, shape, data: Array.from(new Uint8Array(copy), (b) => b !== 0) };
  const data = makeTyped(dtype, 0).constructor as new (b: ArrayBufferLike) => TypedArray;
  return { dtype, shape, data: new data(copy) };
}

/** JSON form of an NdArray (int64 as numbers). */
export function ndarrayToJson(value: NdArray): { dtype: DType; shape: number[]; data: unknown[] } {
  if (!value || typeof value !== "object" || !value.data) throw new TypeError("handler did not return an NdArray");
  const data = value.data as ArrayLike<unknown>;
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    out[i] = typeof x === "bigint" ? Number(x) : x;
  }
  return { dtype: value.dtype, shape: [...value.shape], data: out };
}

/** Raw little-endian bytes of an NdArray with a binary form. */
export function ndarrayToBinary(value: NdArray): Uint8Array {
  const d = value.data;
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if (value.dtype === "bool") return Uint8Array.from(d as boolean[], (b) => (b ? 1 : 0));
  if (value.dtype === "string") throw new TypeError("string ndarrays have no binary form");
  const t = makeTyped(value.dtype, d.length);
  if (t instanceof BigInt64Array) t.set((d as number[]).map((x) => BigInt(x)));
  else (t as Float64Array).set(d as number[]);
  return new Uint8Array(t.buffer);
}
