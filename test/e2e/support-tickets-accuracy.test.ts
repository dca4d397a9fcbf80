/**
 * The tutorial's service, served for real (tiny encoder, the classifier fitted on its embeddings):
 * - the held-out tickets, sent through `POST /classify` in concurrent requests of 1 to 8 texts, are
 *   classified with exactly the accuracy the fit recorded in the classifier's metadata (the pipeline is
 *   deterministic: same tokenizer, encoder, pooling and ONNX classifier bytes);
 * - `{"texts": [...]}` answers one result per text in input order (each equal to that text sent alone),
 *   every text passes through each runner once, and several texts of one request share a batch;
 * - bad input is a 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOGUE } from "../../contract/error-catalogue.ts";
import { ModelStore } from "../../runtime/models/model-store.ts";
import { loadTickets, splitTickets, TICKET_LABELS } from "../../scripts/models/ticket-dataset.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

interface Classification {
  label: string;
  score: number;
  scores: Record<string, number>;
}

let home: string;
let served: ServedSample;

beforeAll(async () => {
  home = await prepareHome(["support-tickets"]);
  served = await serveSample("support-tickets", { home });
});

afterAll(async () => {
  await served?.stop();
  if (served) removeDir(served.outDir);
  if (home) removeDir(home);
});

async function classify(texts: unknown): Promise<Response> {
  return fetch(`${served.url}/classify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts }) });
}

async function results(texts: string[]): Promise<Classification[]> {
  const res = await classify(texts);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: Classification[] };
  expect(body.results).toHaveLength(texts.length);
  return body.results;
}

/** Items each runner has executed so far (the batch-size histogram's sum), and its batches (its count). */
async function runnerTotals(): Promise<Record<string, { items: number; batches: number }>> {
  const text = await (await fetch(`${served.url}/metrics`)).text();
  const out: Record<string, { items: number; batches: number }> = {};
  for (const m of text.matchAll(/^bentoc_runner_adaptive_batch_size_(sum|count)\{[^}]*runner_name="([^"]+)"[^}]*\} (\S+)$/gm)) {
    out[m[2]!] ??= { items: 0, batches: 0 };
    const entry = out[m[2]!]!;
    if (m[1] === "sum") entry.items += Number(m[3]);
    else entry.batches += Number(m[3]);
  }
  return out;
}

describe("support-tickets /classify", () => {
  it("classifies the held-out tickets with exactly the accuracy recorded at fit time", async () => {
    const record = await new ModelStore(home).get("support-tickets-classifier:latest");
    const meta = record.metadata as { seed: number; heldOutSize: number; heldOutCorrect: number; heldOutAccuracy: number; encoder: string; classes: string[] };
    expect(record.labels["variant"]).toBe("tiny");
    expect(meta.encoder).toBe((await new ModelStore(home).get("support-tickets-minilm:latest")).tag);
    expect(meta.classes).toEqual([...TICKET_LABELS]);
    const heldOut = splitTickets(loadTickets(), meta.seed).heldOut;
    expect(heldOut).toHaveLength(meta.heldOutSize);

    // Requests of 1 to 8 texts, all in flight at once: their texts are batched together in any mix.
    const chunks: (typeof heldOut)[] = [];
    for (let i = 0, size = 1; i < heldOut.length; i += size, size = (size % 8) + 1) chunks.push(heldOut.slice(i, i + size));
    const answers = await Promise.all(chunks.map((c) => results(c.map((t) => t.text))));
    const predicted = answers.flat();
    const correct = predicted.filter((r, i) => r.label === heldOut[i]!.label).length;
    expect(correct).toBe(meta.heldOutCorrect);
    expect(Number((correct / heldOut.length).toFixed(6))).toBe(meta.heldOutAccuracy);
  });

  it("answers one result per text, in input order, each as if the text were sent alone", async () => {
    const texts = ["refund needed", "cannot log in", "The app crashes when I upload a photo", "Do you have an office in Berlin?", "x", "refund needed"];
    const before = await runnerTotals();
    const together = await results(texts);
    const after = await runnerTotals();
    // One call per runner with all six texts: each runner executed exactly six more items.
    for (const runner of ["embedding", "classifier"]) expect(after[runner]!.items - (before[runner]?.items ?? 0)).toBe(texts.length);
    expect(after["embedding"]!.batches - (before["embedding"]?.batches ?? 0)).toBeLessThan(texts.length);

    const alone = await Promise.all(texts.map(async (t) => (await results([t]))[0]!));
    together.forEach((r, i) => {
      expect(r.label).toBe(alone[i]!.label);
      expect(r.score).toBe(Math.max(...Object.values(r.scores)));
      expect(r.scores[r.label]).toBe(r.score);
      expect(Object.keys(r.scores)).toEqual([...TICKET_LABELS]);
      expect(Object.values(r.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (const l of TICKET_LABELS) expect(Math.abs(r.scores[l]! - alone[i]!.scores[l]!)).toBeLessThan(1e-5);
    });
    expect(together[5]).toEqual(together[0]); // the same text twice in one request
  });

  it("refuses bad input with a 400 naming the field and why", async () => {
    const cases: [unknown, string, RegExp][] = [
      [[], "/texts", /fewer than 1 items/],
      [["fine", ""], "/texts/1", /fewer than 1 characters/],
      [Array.from({ length: 65 }, () => "a ticket"), "/texts", /more than 64 items/],
      [["fine", "x".repeat(4001)], "/texts/1", /more than 4000 characters/],
      [["fine", 7], "/texts/1", /must be string/],
      ["refund needed", "/texts", /must be array/],
    ];
    for (const [texts, path, why] of cases) {
      const res = await classify(texts);
      expect(res.status, JSON.stringify(texts).slice(0, 40)).toBe(ERROR_CATALOGUE.invalid_input.status);
      const body = (await res.json()) as { code: string; error: string; detail: { path: string; message: string }[] };
      expect(body.code).toBe("invalid_input");
      expect(body.detail.find((d) => d.path === path)?.message, `${path} in ${JSON.stringify(body.detail)}`).toMatch(why);
    }
    const missing = await fetch(`${served.url}/classify`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(await missing.json())).toContain("texts");
  });
});
