/**
 * Open Inference Protocol V2 REST bodies, in both forms: plain JSON, and the binary tensor data extension
 * (a JSON header of `Inference-Header-Content-Length` bytes, then each binary tensor's raw bytes in the
 * order the tensors are listed, each sized by its `parameters.binary_data_size`; little-endian, row-major;
 * BOOL one byte per element; BYTES elements each prefixed by a 4-byte little-endian length).
 * Everything a client can get wrong is a 400 (`BadRequest`) that names the tensor and the problem.
 */
import { BadRequest } from "../errors/http-errors.ts";
import {
  INFERENCE_HEADER,
  V2_DATATYPES,
  type V2Datatype,
  type V2InferRequest,
  type V2InferResponse,
  type V2Parameters,
  type V2RequestedOutput,
  type V2Tensor,
  type V2TensorData,
} from "./v2-types.ts";

export interface EncodedBody {
  body: Buffer;
  /** `content-type`, and `inference-header-content-length` when binary data follows the JSON. */
  headers: Record<string, string>;
}

const DATATYPES: ReadonlySet<string> = new Set(V2_DATATYPES);
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Bytes per element in the binary form (BYTES is variable: 0 here). */
export function elementSize(datatype: V2Datatype): number {
  switch (datatype) {
    case "BOOL":
    case "UINT8":
    case "INT8":
      return 1;
    case "UINT16":
    case "INT16":
      return 2;
    case "UINT32":
    case "INT32":
    case "FP32":
      return 4;
    case "UINT64":
    case "INT64":
    case "FP64":
      return 8;
    case "BYTES":
      return 0;
  }
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function bad(message: string, path = ""): BadRequest {
  return new BadRequest(message, "invalid_input", [{ path, message }]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/** Parses the `Inference-Header-Content-Length` value; undefined when absent (the body is all JSON). */
export function parseHeaderLength(value: string | undefined | null, bodyLength: number): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw bad(`${INFERENCE_HEADER} must be a byte count, got ${JSON.stringify(value)}`);
  const n = Number(value.trim());
  if (n > bodyLength) throw bad(`${INFERENCE_HEADER} is ${n} but the body has only ${bodyLength} bytes`);
  return n;
}

function parseJsonPart(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decoder.decode(bytes));
  } catch (err) {
    const why = err instanceof RangeError ? "is too deeply nested" : `is not valid JSON (${(err as Error).message})`;
    throw new BadRequest(`the inference header ${why}`, "malformed_body", [{ path: "", message: why }]);
  }
  if (!isObject(value)) throw new BadRequest("the inference header must be a JSON object", "malformed_body", [{ path: "", message: "must be an object" }]);
  return value;
}

function readParameters(v: unknown, path: string): V2Parameters | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(`${path} must be an object`, path);
  return v as V2Parameters;
}

/** Copies `size` bytes at `offset` into a fresh, aligned buffer. */
function copyBytes(src: Uint8Array, offset: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(src.subarray(offset, offset + size));
  return out;
}

function fromBinary(datatype: V2Datatype, bytes: Uint8Array, count: number, path: string): V2TensorData {
  if (datatype === "BYTES") {
    const items: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 0;
    while (pos < bytes.byteLength) {
      if (pos + 4 > bytes.byteLength) throw bad(`${path}: BYTES element ${items.length} has a truncated 4-byte length prefix`, path);
      const len = view.getUint32(pos, true);
      pos += 4;
      if (pos + len > bytes.byteLength) throw bad(`${path}: BYTES element ${items.length} claims ${len} bytes but only ${bytes.byteLength - pos} remain`, path);
      items.push(copyBytes(bytes, pos, len));
      pos += len;
    }
    if (items.length !== count) throw bad(`${path}: binary data holds ${items.length} BYTES elements but the shape needs ${count}`, path);
    return items;
  }
  const size = elementSize(datatype);
  if (bytes.byteLength !== count * size) {
    throw bad(`${path}: binary_data_size is ${bytes.byteLength} bytes but shape and ${datatype} need ${count * size}`, path);
  }
  const copy = copyBytes(bytes, 0, bytes.byteLength);
  const buf = copy.buffer as ArrayBuffer;
  switch (datatype) {
    case "BOOL":
      for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
      return copy;
    case "UINT8":
      return copy;
    case "INT8":
      return new Int8Array(buf);
    case "UINT16":
      return new Uint16Array(buf);
    case "INT16":
      return new Int16Array(buf);
    case "UINT32":
      return new Uint32Array(buf);
    case "INT32":
      return new Int32Array(buf);
    case "FP32":
      return new Float32Array(buf);
    case "UINT64":
      return new BigUint64Array(buf);
    case "INT64":
      return new BigInt64Array(buf);
    case "FP64":
      return new Float64Array(buf);
  }
}

function flatten(data: unknown, out: unknown[], depth: number, path: string): void {
  if (!Array.isArray(data)) {
    out.push(data);
    return;
  }
  if (depth > 32) throw bad(`${path}: data is nested too deeply`, path);
  for (const v of data) flatten(v, out, depth + 1, path);
}

const INT_RANGE: Partial<Record<V2Datatype, [number, number]>> = {
  UINT8: [0, 255],
  INT8: [-128, 127],
  UINT16: [0, 65535],
  INT16: [-32768, 32767],
  UINT32: [0, 4294967295],
  INT32: [-2147483648, 2147483647],
};

function toBigInt(v: unknown, unsigned: boolean, where: string): bigint {
  let b: bigint;
  if (typeof v === "number" && Number.isInteger(v)) b = BigInt(v);
  else if (typeof v === "string" && /^-?\d{1,20}$/.test(v)) b = BigInt(v);
  else throw bad(`${where} must be an integer, got ${JSON.stringify(v)}`, where);
  const ok = unsigned ? b >= 0n && b <= 0xffffffffffffffffn : b >= -(2n ** 63n) && b < 2n ** 63n;
  if (!ok) throw bad(`${where} is out of range for ${unsigned ? "UINT64" : "INT64"}`, where);
  return b;
}

function fromJson(datatype: V2Datatype, data: unknown, count: number, path: string): V2TensorData {
  const flat: unknown[] = [];
  flatten(data, flat, 0, path);
  if (flat.length !== count) throw bad(`${path}: data has ${flat.length} elements but the shape needs ${count}`, path);
  const at = (i: number) => `${path}/${i}`;
  switch (datatype) {
    case "BYTES":
      return flat.map((v, i) => {
        if (typeof v !== "string") throw bad(`${at(i)} must be a string for BYTES, got ${JSON.stringify(v)}`, at(i));
        return utf8.encode(v);
      });
    case "BOOL":
      return Uint8Array.from(flat, (v, i) => {
        if (v === true || v === 1) return 1;
        if (v === false || v === 0) return 0;
        throw bad(`${at(i)} must be a boolean, got ${JSON.stringify(v)}`, at(i));
      });
    case "FP32":
    case "FP64": {
      const arr = datatype === "FP32" ? new Float32Array(count) : new Float64Array(count);
      flat.forEach((v, i) => {
        if (typeof v !== "number") throw bad(`${at(i)} must be a number, got ${JSON.stringify(v)}`, at(i));
        arr[i] = v;
      });
      return arr;
    }
    case "INT64":
      return BigInt64Array.from(flat, (v, i) => toBigInt(v, false, at(i)));
    case "UINT64":
      return BigUint64Array.from(flat, (v, i) => toBigInt(v, true, at(i)));
    default: {
      const [lo, hi] = INT_RANGE[datatype]!;
      const check = (v: unknown, i: number): number => {
        if (typeof v !== "number" || !Number.isInteger(v)) throw bad(`${at(i)} must be an integer, got ${JSON.stringify(v)}`, at(i));
        if (v < lo || v > hi) throw bad(`${at(i)} is out of range for ${datatype}`, at(i));
        return v;
      };
      const ctor = { UINT8: Uint8Array, INT8: Int8Array, UINT16: Uint16Array, INT16: Int16Array, UINT32: Uint32Array, INT32: Int32Array }[datatype as "UINT8"];
      return ctor.from(flat, check);
    }
  }
}

interface TensorReader {
  tail: Uint8Array;
  offset: number;
}

function readTensor(v: unknown, path: string, reader: TensorReader): V2Tensor {
  if (!isObject(v)) throw bad(`${path} must be an object with name, shape, datatype and data`, path);
  const { name, datatype, shape } = v;
  if (typeof name !== "string" || name === "") throw bad(`${path}/name must be a non-empty string`, `${path}/name`);
  if (typeof datatype !== "string" || !DATATYPES.has(datatype)) {
    throw bad(`${path}/datatype must be one of ${V2_DATATYPES.join(", ")}; got ${JSON.stringify(datatype)}`, `${path}/datatype`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    throw bad(`${path}/shape must be an array of non-negative integers`, `${path}/shape`);
  }
  const dt = datatype as V2Datatype;
  const count = elementCount(shape as number[]);
  if (!Number.isSafeInteger(count)) throw bad(`${path}/shape is too large`, `${path}/shape`);
  const parameters = readParameters(v["parameters"], `${path}/parameters`);
  const size = parameters?.["binary_data_size"];
  let data: V2TensorData;
  if (size !== undefined) {
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0)
      throw bad(`${path}/parameters/binary_data_size must be a non-negative integer`, `${path}/parameters/binary_data_size`);
    if (reader.offset + size > reader.tail.byteLength) {
      throw bad(
        `${path}: binary_data_size ${size} runs past the end of the body (${reader.tail.byteLength - reader.offset} bytes left)`,
        `${path}/parameters/binary_data_size`,
      );
    }
    data = fromBinary(dt, reader.tail.subarray(reader.offset, reader.offset + size), count, path);
    reader.offset += size;
  } else {
    if (!("data" in v)) throw bad(`${path} has neither data nor parameters.binary_data_size`, path);
    data = fromJson(dt, v["data"], count, `${path}/data`);
  }
  const t: V2Tensor = { name, datatype: dt, shape: [...(shape as number[])], data };
  if (parameters) {
    const { binary_data_size: _drop, ...rest } = parameters;
    if (Object.keys(rest).length > 0) t.parameters = rest;
  }
  return t;
}

function splitBody(body: Uint8Array, headerLength: number | undefined): { json: Record<string, unknown>; reader: TensorReader } {
  const jsonLength = headerLength ?? body.byteLength;
  const json = parseJsonPart(body.subarray(0, jsonLength));
  return { json, reader: { tail: body.subarray(jsonLength), offset: 0 } };
}

function checkTailUsed(reader: TensorReader): void {
  const left = reader.tail.byteLength - reader.offset;
  if (left !== 0) throw bad(`${left} bytes of binary data follow the tensors but no binary_data_size accounts for them`);
}

/** Parses an inference request body; `headerLength` is the `Inference-Header-Content-Length` header. */
export function decodeInferRequest(body: Uint8Array, headerLength?: string | null): V2InferRequest {
  const { json, reader } = splitBody(body, parseHeaderLength(headerLength, body.byteLength));
  const inputs = json["inputs"];
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad("inputs must be a non-empty array of tensors", "/inputs");
  const req: V2InferRequest = { inputs: inputs.map((t, i) => readTensor(t, `/inputs/${i}`, reader)) };
  checkTailUsed(reader);
  if (json["id"] !== undefined) {
    if (typeof json["id"] !== "string") throw bad("id must be a string", "/id");
    req.id = json["id"];
  }
  const parameters = readParameters(json["parameters"], "/parameters");
  if (parameters) req.parameters = parameters;
  const outputs = json["outputs"];
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw bad("outputs must be an array", "/outputs");
    req.outputs = outputs.map((o, i): V2RequestedOutput => {
      if (!isObject(o) || typeof o["name"] !== "string") throw bad(`/outputs/${i} must be an object with a name`, `/outputs/${i}`);
      const p = readParameters(o["parameters"], `/outputs/${i}/parameters`);
      return p ? { name: o["name"], parameters: p } : { name: o["name"] };
    });
  }
  return req;
}

/** Parses an inference response body (the API side reads what a runner answered). */
export function decodeInferResponse(body: Uint8Array, headerLength?: string | null): V2InferResponse {
  const { json, reader } = splitBody(body, parseHeaderLength(headerLength, body.byteLength));
  const outputs = json["outputs"];
  if (!Array.isArray(outputs)) throw bad("outputs must be an array of tensors", "/outputs");
  const res: V2InferResponse = {
    model_name: typeof json["model_name"] === "string" ? json["model_name"] : "",
    outputs: outputs.map((t, i) => readTensor(t, `/outputs/${i}`, reader)),
  };
  checkTailUsed(reader);
  if (typeof json["model_version"] === "string") res.model_version = json["model_version"];
  if (typeof json["id"] === "string") res.id = json["id"];
  const parameters = readParameters(json["parameters"], "/parameters");
  if (parameters) res.parameters = parameters;
  return res;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** The tensor's raw bytes in the binary form (a view where possible). */
export function tensorBytes(t: V2Tensor): Uint8Array {
  if (t.datatype === "BYTES") {
    const items = t.data as Uint8Array[];
    let total = 0;
    for (const b of items) total += 4 + b.byteLength;
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (const b of items) {
      out.writeUInt32LE(b.byteLength, pos);
      out.set(b, pos + 4);
      pos += 4 + b.byteLength;
    }
    return out;
  }
  const d = t.data as Exclude<V2TensorData, Uint8Array[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function jsonData(t: V2Tensor): unknown[] {
  switch (t.datatype) {
    case "BYTES":
      return (t.data as Uint8Array[]).map((b) => utf8Decoder.decode(b));
    case "BOOL":
      return Array.from(t.data as Uint8Array, (v) => v !== 0);
    case "INT64":
    case "UINT64":
      return Array.from(t.data as BigInt64Array, (v) =>
        v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString(),
      );
    default:
      return Array.from(t.data as Float64Array);
  }
}

function tensorJson(t: V2Tensor, binary: boolean, binaryParts: Uint8Array[]): Record<string, unknown> {
  const out: Record<string, unknown> = { name: t.name, datatype: t.datatype, shape: t.shape };
  if (binary) {
    const bytes = tensorBytes(t);
    binaryParts.push(bytes);
    out["parameters"] = { ...t.parameters, binary_data_size: bytes.byteLength };
  } else {
    if (t.parameters && Object.keys(t.parameters).length > 0) out["parameters"] = t.parameters;
    out["data"] = jsonData(t);
  }
  return out;
}

function assemble(head: Record<string, unknown>, parts: Uint8Array[]): EncodedBody {
  const json = Buffer.from(JSON.stringify(head));
  if (parts.length === 0) return { body: json, headers: { "content-type": "application/json" } };
  return {
    body: Buffer.concat([json, ...parts]),
    headers: { "content-type": "application/octet-stream", [INFERENCE_HEADER]: String(json.byteLength) },
  };
}

/** Which tensors go binary: all, none, or decided per tensor name. */
export type BinaryChoice = boolean | ((tensorName: string) => boolean);

function pick(choice: BinaryChoice, name: string): boolean {
  return typeof choice === "function" ? choice(name) : choice;
}

export function encodeInferRequest(req: V2InferRequest, binary: BinaryChoice): EncodedBody {
  const parts: Uint8Array[] = [];
  const head: Record<string, unknown> = {};
  if (req.id !== undefined) head["id"] = req.id;
  if (req.parameters) head["parameters"] = req.parameters;
  head["inputs"] = req.inputs.map((t) => tensorJson(t, pick(binary, t.name), parts));
  if (req.outputs) head["outputs"] = req.outputs;
  return assemble(head, parts);
}

export function encodeInferResponse(res: V2InferResponse, binary: BinaryChoice): EncodedBody {
  const parts: Uint8Array[] = [];
  const head: Record<string, unknown> = { model_name: res.model_name };
  if (res.model_version !== undefined) head["model_version"] = res.model_version;
  if (res.id !== undefined) head["id"] = res.id;
  if (res.parameters) head["parameters"] = res.parameters;
  head["outputs"] = res.outputs.map((t) => tensorJson(t, pick(binary, t.name), parts));
  return assemble(head, parts);
}

/** Whether the request asked for output `name` as binary (`binary_data` on it, else `binary_data_output`). */
export function wantsBinaryOutput(req: V2InferRequest, name: string): boolean {
  const own = req.outputs?.find((o) => o.name === name)?.parameters?.["binary_data"];
  if (typeof own === "boolean") return own;
  return req.parameters?.["binary_data_output"] === true;
}
