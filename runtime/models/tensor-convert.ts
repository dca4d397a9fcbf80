/** Conversion between the sdk's `{ dtype, shape, data }` tensors and onnxruntime-node's `ort.Tensor`. */
import ort from "onnxruntime-node";
import type { DType } from "../../sdk/io.ts";
import type { Tensor } from "../../sdk/types.ts";

const SDK_DTYPES: ReadonlySet<string> = new Set<DType>(["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string"]);

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Builds an `ort.Tensor`, converting plain arrays to the typed array the dtype needs (no copy for typed arrays of the right kind). */
export function toOrtTensor(name: string, t: Tensor): ort.Tensor {
  if (!t || typeof t !== "object" || !Array.isArray(t.shape)) throw new TypeError(`input ${name}: expected a tensor { dtype, shape, data }`);
  if (t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new TypeError(`input ${name}: invalid shape [${t.shape.join(", ")}]`);
  const count = elementCount(t.shape);
  if (t.data.length !== count) throw new TypeError(`input ${name}: ${t.data.length} values do not fill shape [${t.shape.join(", ")}] (${count})`);
  const shape = [...t.shape];
  const d = t.data as ArrayLike<unknown>;
  switch (t.dtype) {
    case "float32":
      return new ort.Tensor("float32", d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>), shape);
    case "float64":
      return new ort.Tensor("float64", d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>), shape);
    case "int8":
      return new ort.Tensor("int8", d instanceof Int8Array ? d : Int8Array.from(d as ArrayLike<number>), shape);
    case "int16":
      return new ort.Tensor("int16", d instanceof Int16Array ? d : Int16Array.from(d as ArrayLike<number>), shape);
    case "int32":
      return new ort.Tensor("int32", d instanceof Int32Array ? d : Int32Array.from(d as ArrayLike<number>), shape);
    case "int64":
      return new ort.Tensor("int64", d instanceof BigInt64Array ? d : BigInt64Array.from(d as ArrayLike<number | bigint>, (v) => BigInt(v)), shape);
    case "uint8":
      return new ort.Tensor("uint8", d instanceof Uint8Array ? d : Uint8Array.from(d as ArrayLike<number>), shape);
    case "bool":
      return new ort.Tensor("bool", d instanceof Uint8Array ? d : Uint8Array.from(d as ArrayLike<unknown>, (v) => (v ? 1 : 0)), shape);
    case "string":
      return new ort.Tensor("string", Array.from(d as ArrayLike<unknown>, String), shape);
    default:
      throw new TypeError(`input ${name}: unsupported dtype ${JSON.stringify(t.dtype)}`);
  }
}

/** Converts an output tensor back; dtypes the sdk has no name for (float16, uint16/32/64) are refused. */
export function fromOrtTensor(name: string, t: ort.Tensor): Tensor {
  if (!SDK_DTYPES.has(t.type)) throw new TypeError(`output ${name} has dtype ${t.type}, which bentoc tensors do not support`);
  const data = t.data as Tensor["data"];
  return { dtype: t.type as DType, shape: t.dims.map(Number), data };
}
