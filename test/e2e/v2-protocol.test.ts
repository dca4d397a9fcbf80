/**
 * `bentoc serve-runner` answers requests written by hand from the Open Inference Protocol V2 spec (KServe
 * REST + Triton's binary tensor data extension) — a literal JSON body and a binary body assembled byte by
 * byte here, not by bentoc's codec — and its answers equal the tabular model run directly.
 */

import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.ts";
import { loadOnnxModel } from "../../runtime/models/onnx-model.ts";
import { freePort } from "../helpers/prometheus.ts";
import { prepareHome, removeDir, repoRoot, startBentoc, waitReady } from "../helpers/serve-sample.ts";

const ROWS = [
  [0.5, -1.25, 2, 0, 3.5, -0.75, 1, 0.25],
  [-2, 0.125, 0.5, 4, -1, 1.5, -3, 0.0625],
];

let home: string;
let outDir: string;
let child: ChildProcess;
let output: () => string;
let url: string;
let expected: number[];

beforeAll(async () => {
  home = await prepareHome(["tabular"]);
  outDir = mkdtempSync(join(tmpdir(), "bentoc-v2-tabular-"));
  const result = await compile({ entry: join(repoRoot, "samples", "tabular"), outDir });
  if (!result.manifest) throw new Error(JSON.stringify(result.diagnostics));
  const port = await freePort();
  ({ child, output } = startBentoc(["serve-runner", outDir, "--runner", "tabular-mlp", "--port", String(port), "--host", "127.0.0.1"], {
    BENTOC_HOME: home,
    BENTOC_LOG_LEVEL: "warn",
  }));
  url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, output);
  const model = await loadOnnxModel("tabular-mlp:latest", { home });
  const y = (await model.run({ x: { dtype: "float32", shape: [2, 8], data: Float32Array.from(ROWS.flat()) } }))["y"]!;
  expected = Array.from(y.data as Float32Array);
  await model.close();
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  removeDir(outDir);
  removeDir(home);
});

function expectClose(actual: number[], want: number[]): void {
  expect(actual).toHaveLength(want.length);
  actual.forEach((v, i) => {
    expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6);
  });
}

describe("Open Inference Protocol V2 from the spec", () => {
  it("health and model metadata", async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/tabular-mlp/ready`)).status).toBe(200);
    const meta = (await (await fetch(`${url}/v2/models/tabular-mlp`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      name: "tabular-mlp",
      platform: "onnxruntime",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 8] }],
      outputs: [{ name: "output", datatype: "FP32", shape: [-1, 3] }],
    });
    const server = (await (await fetch(`${url}/v2`)).json()) as { extensions: string[] };
    expect(server.extensions).toContain("binary_tensor_data");
  });

  it("a literal JSON request", async () => {
    const body = `{
      "id": "req-json-1",
      "inputs": [
        { "name": "input", "shape": [2, 8], "datatype": "FP32",
          "data": [[0.5, -1.25, 2, 0, 3.5, -0.75, 1, 0.25], [-2, 0.125, 0.5, 4, -1, 1.5, -3, 0.0625]] }
      ]
    }`;
    const res = await fetch(`${url}/v2/models/tabular-mlp/infer`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { model_name: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    expect(json.model_name).toBe("tabular-mlp");
    expect(json.id).toBe("req-json-1");
    expect(json.outputs[0]).toMatchObject({ name: "output", datatype: "FP32", shape: [2, 3] });
    expectClose(json.outputs[0]!.data, expected);
  });

  it("a binary tensor data request assembled byte by byte, with a binary answer", async () => {
    const header =
      '{"inputs":[{"name":"input","shape":[2,8],"datatype":"FP32","parameters":{"binary_data_size":64}}],"parameters":{"binary_data_output":true}}';
    const headerBytes = new TextEncoder().encode(header);
    const body = new Uint8Array(headerBytes.length + 64);
    body.set(headerBytes, 0);
    const view = new DataView(body.buffer);
    ROWS.flat().forEach((v, i) => {
      // little-endian, row-major
      view.setFloat32(headerBytes.length + i * 4, v, true);
    });
    const res = await fetch(`${url}/v2/models/tabular-mlp/infer`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(headerBytes.length) },
      body,
    });
    expect(res.status).toBe(200);
    const jsonLength = Number(res.headers.get("inference-header-content-length"));
    const raw = new Uint8Array(await res.arrayBuffer());
    const head = JSON.parse(new TextDecoder().decode(raw.subarray(0, jsonLength))) as {
      outputs: { name: string; datatype: string; shape: number[]; parameters: { binary_data_size: number } }[];
    };
    expect(head.outputs[0]).toMatchObject({ name: "output", datatype: "FP32", shape: [2, 3], parameters: { binary_data_size: 24 } });
    expect(raw.byteLength).toBe(jsonLength + 24);
    const out = new DataView(raw.buffer, raw.byteOffset + jsonLength, 24);
    expectClose(
      Array.from({ length: 6 }, (_, i) => out.getFloat32(i * 4, true)),
      expected,
    );
  });

  it("errors are V2 error objects: 400 for a malformed binary body, 404 for an unknown model", async () => {
    const bad = await fetch(`${url}/v2/models/tabular-mlp/infer`, {
      method: "POST",
      headers: { "inference-header-content-length": "5000" },
      body: '{"inputs":[]}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/inference-header-content-length/);
    const short = await fetch(`${url}/v2/models/tabular-mlp/infer`, {
      method: "POST",
      body: '{"inputs":[{"name":"input","shape":[1,8],"datatype":"FP32","data":[1,2,3]}]}',
    });
    expect(short.status).toBe(400);
    expect(((await short.json()) as { error: string }).error).toMatch(/3 elements but the shape needs 8/);
    const missing = await fetch(`${url}/v2/models/nope/infer`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/unknown model nope/);
  });

  it("checks the input tensor against the advertised one before it joins a batch (400 per bad request)", async () => {
    const infer = (tensor: Record<string, unknown>) =>
      fetch(`${url}/v2/models/tabular-mlp/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ inputs: [tensor] }),
      });
    const row = (n: number) => Array.from({ length: n }, (_, i) => i / 10);
    const cases: [string, Record<string, unknown>, string][] = [
      ["a 7-wide row", { name: "input", shape: [1, 7], datatype: "FP32", data: row(7) }, "/inputs/0/shape"],
      ["two 7-wide rows", { name: "input", shape: [2, 7], datatype: "FP32", data: row(14) }, "/inputs/0/shape"],
      ["rank 3", { name: "input", shape: [1, 2, 4], datatype: "FP32", data: row(8) }, "/inputs/0/shape"],
      ["a 9-wide row", { name: "input", shape: [1, 9], datatype: "FP32", data: row(9) }, "/inputs/0/shape"],
      ["INT32", { name: "input", shape: [1, 8], datatype: "INT32", data: row(8).map(() => 1) }, "/inputs/0/datatype"],
      ["FP64", { name: "input", shape: [1, 8], datatype: "FP64", data: row(8) }, "/inputs/0/datatype"],
      ["another name", { name: "x", shape: [1, 8], datatype: "FP32", data: row(8) }, "/inputs/0/name"],
    ];
    for (const [what, tensor, path] of cases) {
      const res = await infer(tensor);
      expect(res.status, what).toBe(400);
      const body = (await res.json()) as { code: string; detail: { path: string }[] };
      expect(body.code, what).toBe("invalid_input");
      expect(body.detail[0]?.path, what).toBe(path);
    }
    // Sent among good requests, a bad tensor fails alone; every good one gets the right answer.
    const good = Array.from({ length: 40 }, () => infer({ name: "input", shape: [2, 8], datatype: "FP32", data: ROWS.flat() }));
    const bad = Array.from({ length: 10 }, () => infer({ name: "input", shape: [1, 7], datatype: "FP32", data: row(7) }));
    const [goods, bads] = await Promise.all([Promise.all(good), Promise.all(bad)]);
    expect(bads.map((r) => r.status)).toEqual(Array(10).fill(400));
    for (const r of goods) {
      expect(r.status).toBe(200);
      expectClose(((await r.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data, expected);
    }
  });

  it("exposes its own Prometheus metrics with the runner's batches", async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/bentoc_runner_adaptive_batch_size_bucket\{[^}]*runner_name="tabular-mlp"/);
    expect(text).toContain('endpoint="/v2/models/tabular-mlp/infer"');
  });
});
