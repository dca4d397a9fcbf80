/**
 * Every sample API through its generated client, in Node, against the real server (`bentoc serve`) with
 * real ONNX models: support-tickets (MiniLM-architecture, tiny variant), tabular (MLP), ocr (PaddleOCR v4).
 */

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderPng } from "../fixtures/ocr/render-text.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

type AnyClient = Record<string, (...args: unknown[]) => Promise<any>>;
type ClientModule = { createClient(o: { baseUrl: string; timeoutMs?: number }): AnyClient; BentocClientError: new (...a: never[]) => Error };

const LABELS = ["billing", "bug", "account", "other"];
let home: string;
const served: ServedSample[] = [];

async function start(sample: string): Promise<{ client: AnyClient; mod: ClientModule; s: ServedSample }> {
  const s = await serveSample(sample, { home });
  served.push(s);
  const mod = (await import(pathToFileURL(join(s.outDir, "client/index.js")).href)) as ClientModule;
  return { client: mod.createClient({ baseUrl: s.url, timeoutMs: 30_000 }), mod, s };
}

beforeAll(async () => {
  home = await prepareHome(["support-tickets", "tabular", "ocr"]);
});

afterAll(async () => {
  for (const s of served) {
    expect(await s.stop()).toBe(0);
    removeDir(s.outDir);
  }
  removeDir(home);
});

describe("support-tickets through the generated client", () => {
  it("classifies texts, a ticket and plain text, lists labels, and throws a typed error for bad input", async () => {
    const { client, mod } = await start("support-tickets");
    const { results } = await client["classify"]!({ texts: ["I was charged twice for my subscription", "The app crashes when I open settings"] });
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(LABELS).toContain(r.label);
      expect(r.score).toBe(r.scores[r.label]);
      expect(LABELS.reduce((n, l) => n + r.scores[l], 0)).toBeCloseTo(1, 4);
    }
    const one = await client["classifyTicket"]!({ text: "I was charged twice for my subscription", id: "T-1" });
    expect(one.id).toBe("T-1");
    // the same text, alone: equal within float32 noise (in the request above it was padded to its batch-mate's length)
    for (const l of LABELS) expect(Math.abs(one.scores[l] - results[0].scores[l])).toBeLessThan(1e-5);
    expect(one.label).toBe(results[0].label);
    const t = await client["classifyText"]!("The app crashes when I open settings");
    expect(t.label).toBe(results[1].label);
    expect(await client["labels"]!()).toEqual(LABELS);

    const err = await client["classify"]!({ texts: ["fine", ""] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(mod.BentocClientError);
    const e = err as { status: number; code: string; body: { detail: Array<{ path: string }>; requestId: string } };
    expect(e.status).toBe(400);
    expect(e.code).toBe("invalid_input");
    expect(e.body.detail.map((d) => d.path)).toContain("/texts/1");
    expect(e.body.requestId).toMatch(/.+/);
  });

  it("gives the same scores for a ticket alone and among concurrent ones (batched == unbatched)", async () => {
    const { client } = await start("support-tickets");
    const texts = Array.from({ length: 24 }, (_, i) => `ticket number ${i} ${"about my invoice ".repeat(i % 5)}`);
    const alone: Array<{ scores: Record<string, number> }> = [];
    for (const text of texts) alone.push((await client["classify"]!({ texts: [text] })).results[0]);
    const together = await Promise.all(texts.map((text) => client["classifyTicket"]!({ text })));
    const inOne = (await client["classify"]!({ texts })).results as Array<{ scores: Record<string, number> }>;
    together.forEach((r, i) => {
      for (const l of LABELS) expect(Math.abs(r.scores[l] - (alone[i]?.scores[l] ?? NaN))).toBeLessThan(1e-5);
      for (const l of LABELS) expect(Math.abs(inOne[i]!.scores[l]! - (alone[i]?.scores[l] ?? NaN))).toBeLessThan(1e-5);
    });
  });
});

describe("tabular through the generated client", () => {
  it("predicts class probabilities for each row", async () => {
    const { client, mod } = await start("tabular");
    const rows = 3;
    const data = Array.from({ length: rows * 8 }, (_, i) => Math.sin(i));
    const y = await client["predict"]!({ dtype: "float32", shape: [rows, 8], data });
    expect(y.shape).toEqual([rows, 3]);
    for (let r = 0; r < rows; r++) expect(y.data[r * 3] + y.data[r * 3 + 1] + y.data[r * 3 + 2]).toBeCloseTo(1, 4);
    const bad = await client["predict"]!({ dtype: "float32", shape: [2, 8], data: [1, 2, 3] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(mod.BentocClientError);
    expect((bad as { status: number }).status).toBe(400);
  });
});

describe("ocr through the generated client", () => {
  it("reads a rendered line of text from a PNG", async () => {
    const { client } = await start("ocr");
    const png = renderPng(900, 120, [{ text: "Invoice 2024 total 42.50", x: 20, y: 80, pointsize: 48 }]);
    const result = await client["read"]!(new Uint8Array(png));
    expect(result.width).toBe(900);
    expect(result.lines.map((l: { text: string }) => l.text)).toEqual(["Invoice 2024 total 42.50"]);
  });
});
