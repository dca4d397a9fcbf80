/** Fast checks of the IO codecs, the schema validator's error paths and the one error mapping. */

import pngjs from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { MethodNotAllowed, ServiceUnavailable, TooManyRequests } from "../../../runtime/errors/http-errors.ts";
import { errorAnswer } from "../../../runtime/http/error-responder.ts";
import { createInputDecoder } from "../../../runtime/io/decode-input.ts";
import { createOutputEncoder } from "../../../runtime/io/encode-output.ts";
import { createImageDecoder, INLINE_MAX_PIXELS } from "../../../runtime/io/image-decoder.ts";
import { ndarrayFromBinary, ndarrayFromJson } from "../../../runtime/io/ndarray-codec.ts";
import { createSchemaCompiler } from "../../../runtime/io/schema-validators.ts";
import { HttpError } from "../../../sdk/errors.ts";

const decoding = { maxImagePixels: 50_000_000, images: createImageDecoder({ workers: 1, maxQueued: 4, timeoutMs: 10_000 }) };
afterAll(() => decoding.images.close());
const meta = (contentType?: string, headers: Record<string, string> = {}) => ({ contentType, header: (n: string) => headers[n] });
const enc = (s: string) => Buffer.from(s);

function thrown(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error("did not throw");
}

describe("errors", () => {
  it("maps HttpError (also one from another copy of the sdk, as a service bundle has) and hides everything else", async () => {
    expect(errorAnswer(new MethodNotAllowed(["POST"]), "r1")).toMatchObject({ status: 405, headers: ["allow", "POST"], internal: false });
    expect(errorAnswer(new ServiceUnavailable("full", "overloaded"), "r")).toMatchObject({
      body: { error: "full", code: "overloaded", requestId: "r" },
      headers: ["retry-after", "1"],
    });
    expect(errorAnswer(new TooManyRequests(), "r").headers).toEqual(["retry-after", "1"]);
    // A second instance of the sdk's errors module: its HttpError is another class object.
    const copyUrl = new URL("../../../sdk/errors.ts?bundle-copy", import.meta.url).href;
    const copy = (await import(/* @vite-ignore */ copyUrl)) as typeof import("../../../sdk/errors.ts");
    expect(copy.HttpError).not.toBe(HttpError);
    expect(errorAnswer(new copy.HttpError(409, "conflict", "already there"), "r")).toMatchObject({ status: 409, body: { code: "conflict" } });
    // Something that merely looks like one (status and code) is not trusted: 500.
    const lookalike = Object.assign(new Error("nope"), { status: 409, code: "conflict" });
    expect(errorAnswer(lookalike, "r").status).toBe(500);
    const hidden = errorAnswer(new Error("secret"), "r2");
    expect(hidden).toEqual({ status: 500, body: { error: "Internal Server Error", code: "internal", requestId: "r2" }, headers: [], internal: true });
    expect(errorAnswer(new HttpError(200, "ok", "x"), "r").status).toBe(500);
  });
});

describe("json", () => {
  const compiler = createSchemaCompiler({ Item: { type: "object", properties: { n: { type: "integer", minimum: 1 } }, required: ["n"] } });
  const decode = createInputDecoder(
    {
      descriptor: { kind: "json" },
      schema: { type: "object", properties: { items: { type: "array", items: { $ref: "#/$defs/Item" } } }, required: ["items"] },
    },
    compiler,
    decoding,
  );
  it("validates through $defs and names each field as a JSON Pointer", () => {
    expect(decode(enc('{"items":[{"n":2}]}'), meta("application/json"))).toEqual({ items: [{ n: 2 }] });
    const err = thrown(() => decode(enc('{"items":[{"n":0},{}]}'), meta("application/json")));
    expect(err.status).toBe(400);
    expect(err.detail).toEqual([
      { path: "/items/0/n", message: "must be >= 1" },
      { path: "/items/1/n", message: "is required" },
    ]);
  });
  it("415 on a non-JSON type, 400 malformed on bad JSON, accepts +json and no type", () => {
    expect(thrown(() => decode(enc("{}"), meta("text/csv"))).status).toBe(415);
    expect(thrown(() => decode(enc("{"), meta("application/json"))).code).toBe("malformed_body");
    expect(decode(enc('{"items":[]}'), meta("application/vnd.x+json"))).toEqual({ items: [] });
    expect(decode(enc('{"items":[]}'), meta(undefined))).toEqual({ items: [] });
  });
  it("400 malformed_body on bytes that are not UTF-8; a U+FFFD or a Latin-1 letter the client sent is text", () => {
    const any = createInputDecoder({ descriptor: { kind: "json" }, schema: {} }, compiler, decoding);
    const bad = Buffer.concat([enc('{"name":"'), Buffer.from([0xc3, 0x28, 0xff]), enc('"}')]);
    const err = thrown(() => any(bad, meta("application/json")));
    expect([err.status, err.code, err.message]).toEqual([400, "malformed_body", "body is not valid UTF-8"]);
    expect(any(enc('{"name":"a\uFFFDb"}'), meta("application/json"))).toEqual({ name: "a\uFFFDb" });
    expect(any(enc('{"name":"café"}'), meta("application/json"))).toEqual({ name: "café" });
  });
  it("a null schema means no input: an empty body is fine", () => {
    const none = createInputDecoder({ descriptor: { kind: "json" }, schema: { type: "null" } }, compiler, decoding);
    expect(none(enc(""), meta())).toBeUndefined();
  });
});

describe("ndarray", () => {
  it("JSON form to typed arrays, shape checked against the descriptor", () => {
    const a = ndarrayFromJson({ dtype: "int64", shape: [2], data: [1, "9007199254740993"] }, {});
    expect(a.data).toEqual(new BigInt64Array([1n, 9007199254740993n]));
    expect(thrown(() => ndarrayFromJson({ dtype: "int8", shape: [1], data: [300] }, {})).detail).toEqual([
      { path: "/data/0", message: "must be an integer in [-128, 127]" },
    ]);
    expect(thrown(() => ndarrayFromJson({ shape: [1, 2], data: [1, 2] }, { dtype: "float32", shape: [null, 3] })).detail).toEqual([
      { path: "/shape/1", message: "must be 3, got 2" },
    ]);
  });
  it("binary form with x-dtype / x-shape, from an unaligned Buffer", () => {
    const raw = Buffer.concat([Buffer.from([0]), Buffer.from(new Float32Array([1.5, -2]).buffer)]).subarray(1);
    const a = ndarrayFromBinary(raw, "float32", "1,2", {});
    expect(Array.from(a.data as Float32Array)).toEqual([1.5, -2]);
    expect(thrown(() => ndarrayFromBinary(Buffer.alloc(6), "float32", undefined, {})).status).toBe(400);
  });
  it("encodes back to JSON, or bytes when asked", () => {
    const e = createOutputEncoder({ kind: "ndarray" });
    expect(JSON.parse(e({ dtype: "int64", shape: [1], data: new BigInt64Array([5n]) }, undefined).body as string)).toEqual({
      dtype: "int64",
      shape: [1],
      data: [5],
    });
    const b = e({ dtype: "int32", shape: [2], data: new Int32Array([1, 2]) }, "application/octet-stream");
    expect(b.headers).toEqual(["x-dtype", "int32", "x-shape", "2"]);
    expect((b.body as Uint8Array).byteLength).toBe(8);
  });
});

describe("image", () => {
  const decode = createInputDecoder({ descriptor: { kind: "image", formats: ["png"] }, schema: {} }, createSchemaCompiler({}), decoding);
  const pngOf = (width: number, height: number, fill: (i: number) => number) => {
    const png = new pngjs.PNG({ width, height });
    for (let i = 0; i < png.data.length; i++) png.data[i] = fill(i);
    return pngjs.PNG.sync.write(png);
  };
  const rejection = async (p: unknown) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof HttpError) return err;
      throw err;
    }
    throw new Error("did not reject");
  };

  it("decodes a small PNG to RGBA on the spot; corrupt is 400; an excluded format is 415", async () => {
    const small = new pngjs.PNG({ width: 2, height: 1 });
    small.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const img = (await decode(pngjs.PNG.sync.write(small), meta("image/png"))) as { width: number; data: Uint8Array };
    expect(img.width).toBe(2);
    expect(Array.from(img.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await rejection(decode(Buffer.from("not a png at all, really"), meta("image/png")))).status).toBe(400);
    expect(thrown(() => decode(Buffer.from([0xff, 0xd8, 0xff, 0]), meta("image/jpeg"))).status).toBe(415);
  });

  it("refuses, before decoding, more pixels than the cap or than the file can hold (413)", async () => {
    const bomb = pngOf(4, 4, () => 0);
    bomb.writeUInt32BE(100_000, 16); // IHDR width
    bomb.writeUInt32BE(100_000, 20); // IHDR height
    const capped = await rejection(decode(bomb, meta("image/png")));
    expect(capped).toMatchObject({ status: 413, code: "payload_too_large" });
    expect(capped.message).toContain("more than the 50000000 this API accepts");
    const claims = pngOf(4, 4, () => 0);
    claims.writeUInt32BE(5000, 16);
    claims.writeUInt32BE(5000, 20);
    expect((await rejection(decode(claims, meta("image/png")))).message).toMatch(/more than a \d+-byte PNG can hold/);
  });

  it("decodes a large image in a worker thread to the same pixels", async () => {
    const bytes = pngOf(800, 600, (i) => (i * 7) % 251);
    expect(800 * 600).toBeGreaterThan(INLINE_MAX_PIXELS);
    const img = (await decode(bytes, meta("image/png"))) as { width: number; height: number; data: Uint8Array };
    expect([img.width, img.height]).toEqual([800, 600]);
    const direct = pngjs.PNG.sync.read(bytes);
    expect(Buffer.from(img.data).equals(direct.data)).toBe(true);
  });

  it("bounds the queue (503) and the time of a decode (413)", async () => {
    const big = pngOf(1200, 900, (i) => (i * 13) % 253);
    const pool = createImageDecoder({ workers: 1, maxQueued: 1, timeoutMs: 10_000 });
    const results = await Promise.allSettled([0, 1, 2].map(() => pool.decode(big, "png", 50_000_000)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ status: 503, code: "overloaded" });
    await pool.close();
    const hasty = createImageDecoder({ workers: 1, maxQueued: 1, timeoutMs: 1 });
    expect(await rejection(hasty.decode(big, "png", 50_000_000))).toMatchObject({ status: 413, message: "the image took longer than 1 ms to decode" });
    // The pool replaced the worker it gave up on: a patient decode still works.
    await hasty.close();
  });
});
