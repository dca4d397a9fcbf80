/**
 * Streaming benchmark (issue 17): the streaming-text sample (a character-level RNN step per generated
 * character, batchable) served by `bentoc serve`; 1 and 32 concurrent NDJSON streams of `tokens`
 * characters each, `rounds` times. Records time to first item (request sent → first line read, p50 and
 * p95 over all streams), items/s per stream and in total, and the mean batch size of the step runner
 * (from /metrics) at each concurrency. Writes bench/results/streaming.{json,md}.
 *
 *   tsx bench/streaming.ts [--tokens 200] [--rounds 3]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { prepareModels } from "../scripts/models/prepare.ts";
import { serveSample } from "../test/helpers/serve-sample.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, median, writeResults } from "./results-io.ts";

interface StreamResult {
  firstItemMs: number;
  totalMs: number;
  items: number;
}

async function oneStream(url: string, tokens: number): Promise<StreamResult> {
  const t0 = performance.now();
  const res = await fetch(`${url}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ prompt: "the ", maxTokens: tokens }),
  });
  if (!res.ok || !res.body) throw new Error(`stream failed: ${res.status} ${await res.text()}`);
  const reader = res.body.getReader();
  let firstItemMs = NaN;
  let newlines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const byte of value) if (byte === 10) newlines++;
    if (Number.isNaN(firstItemMs) && newlines > 0) firstItemMs = performance.now() - t0;
  }
  return { firstItemMs, totalMs: performance.now() - t0, items: newlines };
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function batchStats(text: string): { sum: number; count: number } {
  const read = (suffix: string) =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`bentoc_runner_adaptive_batch_size_${suffix}{`) && l.includes('runner_name="char-rnn"'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  return { sum: read("sum"), count: read("count") };
}

export async function runStreamingBench(options: { tokens?: number; rounds?: number; log?: (line: string) => void } = {}): Promise<Record<string, unknown>> {
  const tokens = options.tokens ?? 200;
  const rounds = options.rounds ?? 3;
  const log = options.log ?? ((l: string) => console.log(l));
  const home = mkdtempSync(join(tmpdir(), "bentoc-bench-home-"));
  const rows: Record<string, unknown>[] = [];
  try {
    await prepareModels({ only: ["streaming-text"], home, log: () => {} });
    const served = await serveSample("streaming-text", { home });
    try {
      await oneStream(served.url, 20); // warm-up
      for (const concurrency of [1, 32]) {
        const results: StreamResult[] = [];
        const walls: number[] = [];
        const before = batchStats(await fetch(`${served.url}/metrics`).then((r) => r.text()));
        for (let round = 0; round < rounds; round++) {
          const t0 = performance.now();
          results.push(...(await Promise.all(Array.from({ length: concurrency }, () => oneStream(served.url, tokens)))));
          walls.push(performance.now() - t0);
        }
        const after = batchStats(await fetch(`${served.url}/metrics`).then((r) => r.text()));
        const items = results.reduce((n, r) => n + r.items, 0);
        if (items !== concurrency * rounds * tokens) throw new Error(`expected ${concurrency * rounds * tokens} items, got ${items}`);
        const first = results.map((r) => r.firstItemMs);
        const row = {
          concurrency,
          streams: results.length,
          tokensPerStream: tokens,
          firstItemMs: { p50: Number(median(first).toFixed(2)), p95: Number(quantile(first, 0.95).toFixed(2)) },
          perStreamItemsPerS: Number(median(results.map((r) => (r.items * 1000) / r.totalMs)).toFixed(1)),
          totalItemsPerS: Number(((items * 1000) / walls.reduce((a, b) => a + b, 0)).toFixed(1)),
          meanBatchSize: Number(((after.sum - before.sum) / Math.max(1, after.count - before.count)).toFixed(2)),
        };
        log(
          `streaming: ${concurrency} concurrent: first item p50 ${row.firstItemMs.p50} ms, ${row.totalItemsPerS} items/s total, mean batch ${row.meanBatchSize}`,
        );
        rows.push(row);
      }
    } finally {
      await served.stop();
      rmSync(served.outDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const generatedAt = new Date().toISOString();
  const machine = machineInfo();
  const json = { generatedAt, machine, tokens, rounds, rows };
  const md = [
    "# Streaming (issue 17)",
    "",
    machineLine(generatedAt, machine),
    "",
    `The streaming-text sample (one batchable RNN step per character), NDJSON, prompt "the ", ${tokens} characters per stream, ${rounds} rounds per concurrency. Time to first item: request sent → first line read (it includes the 4 prompt steps).`,
    "",
    mdTable(
      ["concurrent streams", "streams", "first item p50 (ms)", "first item p95 (ms)", "items/s per stream (median)", "items/s total", "mean batch size"],
      rows.map((r: any) => [
        r.concurrency,
        r.streams,
        fixed(r.firstItemMs.p50, 1),
        fixed(r.firstItemMs.p95, 1),
        fixed(r.perStreamItemsPerS, 0),
        fixed(r.totalItemsPerS, 0),
        fixed(r.meanBatchSize, 2),
      ]),
    ),
    "",
  ].join("\n");
  writeResults("streaming", json, md);
  return json;
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { tokens: { type: "string" }, rounds: { type: "string" } } });
  await runStreamingBench({ ...(values.tokens ? { tokens: Number(values.tokens) } : {}), ...(values.rounds ? { rounds: Number(values.rounds) } : {}) });
}
