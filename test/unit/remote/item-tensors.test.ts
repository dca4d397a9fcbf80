import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { itemKindOf, itemsToTensor, tensorToItems } from "../../../runtime/remote/item-tensors.ts";
import { decodeInferRequest, encodeInferRequest } from "../../../runtime/remote/v2-codec.ts";
import type { V2Tensor } from "../../../runtime/remote/v2-types.ts";
import type { Manifest } from "../../../sdk/manifest.ts";

/** Through the wire and back, binary or JSON, so the mapping is tested as it travels. */
function travel(t: V2Tensor, binary: boolean): V2Tensor {
  const enc = encodeInferRequest({ inputs: [t] }, binary);
  return decodeInferRequest(enc.body, enc.headers["inference-header-content-length"]).inputs[0]!;
}

describe("item kinds from the manifest's item schemas", () => {
  const defs = {
    NdArray: { type: "object", properties: { dtype: {}, shape: {}, data: {} } },
    LineCrop: { type: "object", properties: { width: { type: "number" } } },
  };
  it.each([
    [{ type: "string" }, "string"],
    [{ enum: ["a", "b"] }, "string"],
    [{ type: "number" }, "number"],
    [{ type: "array", items: { type: "number" } }, "numbers"],
    [{ type: "boolean" }, "boolean"],
    [{ $ref: "#/$defs/NdArray" }, "ndarray"],
    [{ $ref: "#/$defs/LineCrop" }, "json"],
    [{ type: "array", items: { type: "array" } }, "json"],
  ])("%j → %s", (schema, kind) => expect(itemKindOf(schema, defs)).toBe(kind));
});

describe("items ↔ tensors", () => {
  for (const binary of [true, false]) {
    const form = binary ? "binary" : "JSON";
    it(`strings are a BYTES [N] tensor (${form})`, () => {
      const t = itemsToTensor("input", ["I was charged twice", "", "ünï"], "string");
      expect([t.datatype, t.shape]).toEqual(["BYTES", [3]]);
      expect(tensorToItems(travel(t, binary), "string")).toEqual(["I was charged twice", "", "ünï"]);
    });

    it(`number[] items are FP32 [N, K] when exact in float32, FP64 otherwise (${form})`, () => {
      const f32 = [Array.from(Float32Array.from([0.1, 0.2, 0.7])), [1, 2, 3]];
      const t = itemsToTensor("output", f32, "numbers");
      expect([t.datatype, t.shape]).toEqual(["FP32", [2, 3]]);
      expect(tensorToItems(travel(t, binary), "numbers")).toEqual(f32);
      const f64 = [[0.1, 0.2]];
      const t64 = itemsToTensor("output", f64, "numbers");
      expect(t64.datatype).toBe("FP64");
      expect(tensorToItems(travel(t64, binary), "numbers")).toEqual(f64);
    });

    it(`ragged number[] items fall back to JSON elements (${form})`, () => {
      const t = itemsToTensor("output", [[1], [2, 3]], "numbers");
      expect([t.datatype, t.parameters]).toEqual(["BYTES", { content_type: "application/json" }]);
      expect(tensorToItems(travel(t, binary), "numbers")).toEqual([[1], [2, 3]]);
    });

    it(`NdArray items concatenate along dim 0 and split back by bentoc_rows (${form})`, () => {
      const a = { dtype: "float32" as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
      const b = { dtype: "float32" as const, shape: [1, 3], data: [7, 8, 9] };
      const t = itemsToTensor("input", [a, b], "ndarray");
      expect([t.datatype, t.shape, t.parameters]).toEqual(["FP32", [3, 3], { bentoc_rows: [2, 1] }]);
      const back = tensorToItems(travel(t, binary), "ndarray");
      expect(back).toEqual([a, { ...b, data: Float32Array.from([7, 8, 9]) }]);
    });

    it(`objects with typed arrays travel as JSON elements (${form})`, () => {
      const crop = { width: 2, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3, 250, 251, 252]), format: "raw" };
      const t = itemsToTensor("input", [crop, { nested: { ids: BigInt64Array.from([5n]) } }], "json");
      expect(t.datatype).toBe("BYTES");
      expect(tensorToItems(travel(t, binary), "json")).toEqual([crop, { nested: { ids: BigInt64Array.from([5n]) } }]);
    });
  }

  it("a tensor without bentoc_rows is one NdArray item (what a plain V2 client sends)", () => {
    const t: V2Tensor = { name: "input", datatype: "FP32", shape: [2, 8], data: new Float32Array(16).fill(0.5) };
    expect(tensorToItems(t, "ndarray")).toEqual([{ dtype: "float32", shape: [2, 8], data: new Float32Array(16).fill(0.5) }]);
  });

  it("rejects row counts that do not add up, and numbers sent to a string method, with 400", () => {
    const bad: V2Tensor = { name: "input", datatype: "FP32", shape: [2, 1], parameters: { bentoc_rows: [1, 2] }, data: new Float32Array(2) };
    expect(() => tensorToItems(bad, "ndarray")).toThrow(
      expect.objectContaining({ status: 400, message: expect.stringMatching(/sums to 3 but dimension 0 is 2/) }),
    );
    const nums: V2Tensor = { name: "input", datatype: "FP32", shape: [1], data: new Float32Array(1) };
    expect(() => tensorToItems(nums, "string")).toThrow(expect.objectContaining({ status: 400 }));
  });

  it("maps the support-tickets and ocr runner methods to the expected kinds", () => {
    // The snapshot manifests are the compiler's real output for the samples.
    const load = (sample: string) => JSON.parse(readFileSync(new URL(`../../../snapshots/${sample}/bento.json`, import.meta.url), "utf8")) as Manifest;
    const st = load("support-tickets");
    const stKinds = st.runners.map((r) => [r.name, ...r.methods.map((x) => [itemKindOf(x.input, st.$defs), itemKindOf(x.output, st.$defs)])]);
    // texts → embeddings (BYTES [N] → FP32 [N, 384]), embeddings → probabilities (FP32 [N, 384] → FP32 [N, 4])
    expect(stKinds).toEqual([
      ["classifier", ["numbers", "numbers"]],
      ["embedding", ["string", "numbers"]],
    ]);
    const ocr = load("ocr");
    const kinds = ocr.runners.flatMap((r) => r.methods.map((x) => [itemKindOf(x.input, ocr.$defs), itemKindOf(x.output, ocr.$defs)]));
    expect(kinds).toEqual([
      ["json", "json"],
      ["json", "json"],
    ]);
  });
});
