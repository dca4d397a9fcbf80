/**
 * JSON that keeps typed arrays and bigints, for items that cross to a remote runner as JSON (an OCR
 * `LineCrop` holds a `Uint8Array` of pixels). A typed array becomes `{ "$typed": "uint8", "base64": ... }`
 * and a bigint `{ "$bigint": "123" }`; plain JSON from any client passes through unchanged.
 */
type TypedCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Uint8ClampedArrayConstructor;

const TYPED: Record<string, TypedCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  uint8clamped: Uint8ClampedArray,
};

function typedName(v: ArrayBufferView): string | undefined {
  if (v instanceof Buffer || v instanceof Uint8Array) return "uint8";
  if (v instanceof Float32Array) return "float32";
  if (v instanceof Float64Array) return "float64";
  if (v instanceof Int8Array) return "int8";
  if (v instanceof Int16Array) return "int16";
  if (v instanceof Int32Array) return "int32";
  if (v instanceof BigInt64Array) return "int64";
  if (v instanceof Uint16Array) return "uint16";
  if (v instanceof Uint32Array) return "uint32";
  if (v instanceof BigUint64Array) return "uint64";
  if (v instanceof Uint8ClampedArray) return "uint8clamped";
  return undefined;
}

export function stringifyTyped(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key]; // before toJSON (a Buffer's toJSON would hide that it is bytes)
    if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
      const name = typedName(raw);
      if (name) return { $typed: name, base64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("base64") };
    }
    if (typeof v === "bigint") return { $bigint: v.toString() };
    return v;
  });
}

export function parseTyped(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    if (typeof o["$typed"] === "string" && typeof o["base64"] === "string" && Object.keys(o).length === 2) {
      const ctor = TYPED[o["$typed"]];
      if (!ctor) return v;
      const bytes = Buffer.from(o["base64"], "base64");
      const size = ctor.BYTES_PER_ELEMENT;
      if (bytes.byteLength % size !== 0) return v;
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer, 0, bytes.byteLength / size);
    }
    if (typeof o["$bigint"] === "string" && Object.keys(o).length === 1 && /^-?\d+$/.test(o["$bigint"])) return BigInt(o["$bigint"]);
    return v;
  });
}
