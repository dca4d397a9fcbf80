import { describe, expect, it } from "vitest";
import {
  decodeInferRequest,
  decodeInferResponse,
  encodeInferRequest,
  encodeInferResponse,
  parseHeaderLength,
  tensorBytes,
  wantsBinaryOutput,
} from "../../../runtime/remote/v2-codec.ts";
import type { V2Tensor } from "../../../runtime/remote/v2-types.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function status(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (err) {
    return { status: (err as { status: number }).status, message: (err as Error).message };
  }
  throw new Error("expected a throw");
}

/** Header JSON + raw bytes, the way the spec lays a binary body out. */
function binaryBody(header: unknown, ...parts: Uint8Array[]): { body: Buffer; headerLength: string } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...parts]), headerLength: String(json.byteLength) };
}

describe("V2 JSON form", () => {
  it("decodes typed data, flattening nested arrays row-major", () => {
    const req = decodeInferRequest(
      utf8(
        JSON.stringify({
          id: "r1",
          parameters: { binary_data_output: true },
          inputs: [
            {
              name: "x",
              shape: [2, 3],
              datatype: "FP32",
              data: [
                [1, 2, 3],
                [4, 5, 6.5],
              ],
            },
            { name: "n", shape: [2], datatype: "INT64", data: [9007199254740993n.toString(), -4] },
            { name: "b", shape: [3], datatype: "BOOL", data: [true, false, true] },
            { name: "s", shape: [2], datatype: "BYTES", data: ["héllo", ""] },
          ],
          outputs: [{ name: "y", parameters: { binary_data: false } }],
        }),
      ),
    );
    expect(req.id).toBe("r1");
    const [x, n, b, s] = req.inputs as [V2Tensor, V2Tensor, V2Tensor, V2Tensor];
    expect(x.data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6.5]));
    expect(n.data).toEqual(BigInt64Array.from([9007199254740993n, -4n]));
    expect(b.data).toEqual(Uint8Array.from([1, 0, 1]));
    expect((s.data as Uint8Array[]).map(text)).toEqual(["héllo", ""]);
    expect(wantsBinaryOutput(req, "y")).toBe(false);
    expect(wantsBinaryOutput(req, "z")).toBe(true);
  });

  it("encodes a response as plain JSON when no output is binary", () => {
    const enc = encodeInferResponse(
      { model_name: "m", id: "r1", outputs: [{ name: "y", datatype: "FP32", shape: [2], data: Float32Array.from([0.5, 2]) }] },
      false,
    );
    expect(enc.headers).toEqual({ "content-type": "application/json" });
    expect(JSON.parse(enc.body.toString())).toEqual({ model_name: "m", id: "r1", outputs: [{ name: "y", datatype: "FP32", shape: [2], data: [0.5, 2] }] });
  });
});

describe("V2 binary tensor data extension", () => {
  it("round-trips every datatype through the binary form", () => {
    const inputs: V2Tensor[] = [
      { name: "f32", datatype: "FP32", shape: [2, 2], data: Float32Array.from([1.5, -2, 3.25, 1e-7]) },
      { name: "f64", datatype: "FP64", shape: [1], data: Float64Array.from([Math.PI]) },
      { name: "i64", datatype: "INT64", shape: [2], data: BigInt64Array.from([-(2n ** 62n), 7n]) },
      { name: "i32", datatype: "INT32", shape: [3], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) },
      { name: "u8", datatype: "UINT8", shape: [2], data: Uint8Array.from([0, 255]) },
      { name: "bool", datatype: "BOOL", shape: [3], data: Uint8Array.from([1, 0, 1]) },
      { name: "bytes", datatype: "BYTES", shape: [3], data: ["a", "", "ünïcode"].map(utf8) },
    ];
    const enc = encodeInferRequest({ id: "7", inputs }, true);
    expect(enc.headers["content-type"]).toBe("application/octet-stream");
    const header = JSON.parse(enc.body.subarray(0, Number(enc.headers["inference-header-content-length"])).toString());
    expect(header.inputs.map((t: { parameters: { binary_data_size: number } }) => t.parameters.binary_data_size)).toEqual([
      16,
      8,
      16,
      12,
      2,
      3,
      4 + 1 + 4 + 0 + 4 + 9,
    ]);
    expect(header.inputs.every((t: object) => !("data" in t))).toBe(true);
    const back = decodeInferRequest(enc.body, enc.headers["inference-header-content-length"]);
    expect(back.id).toBe("7");
    expect(back.inputs).toEqual(inputs);
  });

  it("writes BYTES elements with 4-byte little-endian length prefixes", () => {
    const bytes = tensorBytes({ name: "s", datatype: "BYTES", shape: [2], data: [utf8("ab"), new Uint8Array(300).fill(7)] });
    expect([...bytes.subarray(0, 6)]).toEqual([2, 0, 0, 0, 0x61, 0x62]);
    expect([...bytes.subarray(6, 10)]).toEqual([44, 1, 0, 0]); // 300 = 0x012c
    expect(bytes.byteLength).toBe(6 + 4 + 300);
  });

  it("reads a body mixing a binary tensor and a JSON tensor, in the order listed", () => {
    const f = Buffer.alloc(8);
    f.writeFloatLE(1.25, 0);
    f.writeFloatLE(-3, 4);
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: "a", shape: [2], datatype: "FP32", parameters: { binary_data_size: 8 } },
          { name: "b", shape: [1], datatype: "INT32", data: [5] },
        ],
      },
      f,
    );
    const req = decodeInferRequest(body, headerLength);
    expect(req.inputs[0]!.data).toEqual(Float32Array.from([1.25, -3]));
    expect(req.inputs[0]!.parameters).toBeUndefined();
    expect(req.inputs[1]!.data).toEqual(Int32Array.from([5]));
  });

  it("decodes a binary response", () => {
    const enc = encodeInferResponse(
      { model_name: "m", outputs: [{ name: "y", datatype: "FP32", shape: [1, 2], data: Float32Array.from([0.25, 0.75]) }] },
      (n) => n === "y",
    );
    const res = decodeInferResponse(enc.body, enc.headers["inference-header-content-length"]);
    expect(res.model_name).toBe("m");
    expect(res.outputs[0]!.data).toEqual(Float32Array.from([0.25, 0.75]));
  });
});

describe("malformed requests are 400 with a reason", () => {
  const ok = { inputs: [{ name: "a", shape: [2], datatype: "FP32", parameters: { binary_data_size: 8 } }] };
  it.each([
    ["a header length that is not a number", () => decodeInferRequest(Buffer.from("{}"), "12x"), /byte count/],
    ["a header length past the body", () => decodeInferRequest(Buffer.from("{}"), "99"), /only 2 bytes/],
    ["a header that is not JSON", () => decodeInferRequest(Buffer.from("{nope"), undefined), /not valid JSON/],
    ["a header that is not an object", () => decodeInferRequest(Buffer.from("[1]"), undefined), /JSON object/],
    ["no inputs", () => decodeInferRequest(Buffer.from('{"inputs":[]}')), /non-empty/],
    [
      "an unknown datatype",
      () => decodeInferRequest(Buffer.from('{"inputs":[{"name":"a","shape":[1],"datatype":"FP8","data":[1]}]}')),
      /datatype must be one of/,
    ],
    ["a negative dimension", () => decodeInferRequest(Buffer.from('{"inputs":[{"name":"a","shape":[-1],"datatype":"FP32","data":[1]}]}')), /non-negative/],
    [
      "too few JSON elements",
      () => decodeInferRequest(Buffer.from('{"inputs":[{"name":"a","shape":[3],"datatype":"FP32","data":[1,2]}]}')),
      /2 elements but the shape needs 3/,
    ],
    ["an INT8 out of range", () => decodeInferRequest(Buffer.from('{"inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":[300]}]}')), /out of range/],
    [
      "a string in FP32 data",
      () => decodeInferRequest(Buffer.from('{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","data":["1"]}]}')),
      /must be a number/,
    ],
    [
      "binary data shorter than binary_data_size",
      () => {
        const b = binaryBody(ok, Buffer.alloc(4));
        return decodeInferRequest(b.body, b.headerLength);
      },
      /runs past the end/,
    ],
    [
      "binary_data_size not matching the shape",
      () => {
        const b = binaryBody({ inputs: [{ ...ok.inputs[0], parameters: { binary_data_size: 4 } }] }, Buffer.alloc(4));
        return decodeInferRequest(b.body, b.headerLength);
      },
      /need 8/,
    ],
    [
      "bytes left over after the tensors",
      () => {
        const b = binaryBody(ok, Buffer.alloc(12));
        return decodeInferRequest(b.body, b.headerLength);
      },
      /4 bytes of binary data follow/,
    ],
    [
      "a truncated BYTES length prefix",
      () => {
        const b = binaryBody({ inputs: [{ name: "s", shape: [1], datatype: "BYTES", parameters: { binary_data_size: 2 } }] }, Buffer.from([1, 0]));
        return decodeInferRequest(b.body, b.headerLength);
      },
      /truncated 4-byte length prefix/,
    ],
    [
      "a BYTES element longer than the data",
      () => {
        const b = binaryBody({ inputs: [{ name: "s", shape: [1], datatype: "BYTES", parameters: { binary_data_size: 6 } }] }, Buffer.from([9, 0, 0, 0, 1, 2]));
        return decodeInferRequest(b.body, b.headerLength);
      },
      /claims 9 bytes but only 2 remain/,
    ],
    [
      "a BYTES element count not matching the shape",
      () => {
        const b = binaryBody({ inputs: [{ name: "s", shape: [2], datatype: "BYTES", parameters: { binary_data_size: 5 } }] }, Buffer.from([1, 0, 0, 0, 65]));
        return decodeInferRequest(b.body, b.headerLength);
      },
      /holds 1 BYTES elements but the shape needs 2/,
    ],
  ])("%s", (_what, fn, message) => {
    const r = status(fn);
    expect(r.status).toBe(400);
    expect(r.message).toMatch(message);
  });

  it("accepts an absent or empty Inference-Header-Content-Length as all-JSON", () => {
    expect(parseHeaderLength(undefined, 10)).toBeUndefined();
    expect(parseHeaderLength("", 10)).toBeUndefined();
    expect(parseHeaderLength("10", 10)).toBe(10);
  });
});
