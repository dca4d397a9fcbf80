/**
 * Batching benchmark (issues 5 and 15): `bentoc bench` on support-tickets — the tutorial's two-runner service
 * (embedding runner: the full MiniLM-L6-architecture encoder; classifier runner: the fitted logistic
 * regression) — through `POST /classify` with 80 closed-loop clients:
 * - one ~20-word ticket per request, settings off/adaptive/5/10/25/50 (issue 5);
 * - 8 texts per request (the same ticket 8 times, so every item costs what the ceiling's items cost), adaptive
 *   (issue 15);
 * then open loop (one text per request) at 70% of the ceiling. The ceiling is the raw onnxruntime-node
 * throughput of the same encoder at its best batch size, without HTTP, measured in the same run: before the
 * first closed-loop row and after every row. Every closed-loop row is reported as items/s (texts classified
 * per second) ÷ the higher of the two ceilings measured around it (a neighbour's load that comes and goes
 * weighs on both sides of the ratio alike; the higher one, so a busy moment during one measurement cannot make
 * the ratio look better than it is), and ÷ the highest ceiling of the run, with each runner's mean batch size
 * over the measured window.
 *
 * Each figure is written with the 1-minute load average when it was taken: the machine may be shared, and a
 * load average near or above its CPU count means the figure is pessimistic.
 * Writes bench/results/batching.{json,md,svg}.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { type BenchReport, type BenchRow, formatTable, parseSettings, renderChart, runBench } from "../loadtest/bench-runner.ts";
import { loadOnnxModel } from "../runtime/models/onnx-model.ts";
import { DEFAULT_MINILM_ASSETS, prepareModels } from "../scripts/models/prepare.ts";
import { serveSample } from "../test/helpers/serve-sample.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, RESULTS_DIR, writeResults } from "./results-io.ts";

export const TICKET = "Hello, I was charged twice for my monthly subscription and I would like a refund of the second payment please";
/** Texts per request of the multi-text closed loop. */
export const TEXTS_PER_REQUEST = 8;

/** The 1-minute load average now, as written beside each figure. */
function load1m(): number {
  return Number((loadavg()[0] ?? 0).toFixed(2));
}

/** A closed-loop row with what issue 15 reports: items (texts) per second, its share of the ceiling, the load. */
export interface ItemsRow extends BenchRow {
  textsPerRequest: number;
  /**
   * Texts classified per second: items the classifier runner (the last stage) executed per second over the
   * measured window, from the server's own metrics. Unlike answered requests × texts it is not quantised by
   * requests that straddle the window's ends (8-text requests at c=80 take seconds each).
   */
  itemsPerS: number;
  /** Answered requests per second × texts per request (the client's view; equal to itemsPerS up to that quantisation). */
  answeredItemsPerS: number;
  /** The encoder's ceiling this row is compared with: the higher of the measurements just before and just after it. */
  ceilingItemsPerS: number | null;
  /** itemsPerS ÷ ceilingItemsPerS. */
  overCeiling: number | null;
  /** itemsPerS ÷ the highest ceiling of the whole run (the most conservative ratio). */
  overRunCeiling: number | null;
  /** 1-minute load average at the end of this row's run. */
  loadAverage1m: number;
}

type Ceiling = Awaited<ReturnType<typeof ceiling>> & { loadAverage1m: number };

async function ceiling(home: string): Promise<{ bestBatch: number; itemsPerS: number; perBatch: Record<string, { ms: number; itemsPerS: number }> }> {
  const model = await loadOnnxModel("support-tickets-minilm:latest", { home, spinning: true }); // onnxruntime at its own defaults
  const tokJson = JSON.parse(readFileSync(join(DEFAULT_MINILM_ASSETS, "tokenizer.json"), "utf8"));
  tokJson.padding = null;
  const tok = new Tokenizer(tokJson, JSON.parse(readFileSync(join(DEFAULT_MINILM_ASSETS, "tokenizer_config.json"), "utf8")));
  const ids = (tok.encode(TICKET, { add_special_tokens: true }).ids as number[]).map(BigInt);
  const perBatch: Record<string, { ms: number; itemsPerS: number }> = {};
  let best = { bestBatch: 1, itemsPerS: 0 };
  for (const n of [1, 4, 8, 16, 32, 64]) {
    const seq = ids.length;
    const input = new BigInt64Array(n * seq);
    for (let i = 0; i < n; i++) input.set(ids, i * seq);
    const mask = new BigInt64Array(n * seq).fill(1n);
    const feeds = {
      input_ids: { dtype: "int64" as const, shape: [n, seq], data: input },
      attention_mask: { dtype: "int64" as const, shape: [n, seq], data: mask },
    };
    for (let i = 0; i < 3; i++) await model.run(feeds);
    const runs = Math.max(5, Math.round(160 / n));
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await model.run(feeds);
    const ms = (performance.now() - t0) / runs;
    const itemsPerS = (n * 1000) / ms;
    perBatch[String(n)] = { ms: Number(ms.toFixed(2)), itemsPerS: Number(itemsPerS.toFixed(1)) };
    if (itemsPerS > best.itemsPerS) best = { bestBatch: n, itemsPerS };
  }
  await model.close();
  return { ...best, itemsPerS: Number(best.itemsPerS.toFixed(1)), perBatch };
}

async function measuredCeiling(home: string): Promise<Ceiling> {
  const c = await ceiling(home);
  return { ...c, loadAverage1m: load1m() };
}

/**
 * Closed loop, one setting at a time, each followed by a ceiling measurement (`ceilings` holds the one taken
 * before the first row): each row is compared with the ceilings measured right before and right after it, so a
 * neighbour's load that comes and goes during the run weighs on both sides of the ratio alike. Each row gets
 * the load average of its own run. `bentoc bench` resets every runner to its configured batching before each
 * setting.
 */
async function closedLoop(
  url: string,
  adminToken: string,
  spec: string,
  textsPerRequest: number,
  durationMs: number,
  ceilings: Ceiling[],
  measureCeiling: () => Promise<Ceiling>,
  log: (line: string) => void,
): Promise<Omit<BenchReport, "rows"> & { rows: ItemsRow[] }> {
  const payload = JSON.stringify({ texts: Array.from({ length: textsPerRequest }, () => TICKET) });
  const rows: ItemsRow[] = [];
  let mode = "";
  for (const setting of parseSettings(spec)) {
    const report = await runBench({
      url,
      api: "classify",
      payload,
      contentType: "application/json",
      concurrency: 80,
      durationMs,
      warmupMs: 3000,
      settings: [setting],
      adminToken,
      log,
    });
    const loadAverage1m = load1m();
    mode = `${report.mode}, ${textsPerRequest} text${textsPerRequest === 1 ? "" : "s"} per request`;
    const before = ceilings[ceilings.length - 1];
    const after = await measureCeiling();
    ceilings.push(after);
    const local = Math.max(before?.itemsPerS ?? 0, after.itemsPerS);
    for (const r of report.rows) {
      const itemsPerS = Number((r.runners["classifier"]?.itemsPerS ?? r.rps * textsPerRequest).toFixed(1));
      const row: ItemsRow = {
        ...r,
        textsPerRequest,
        itemsPerS,
        answeredItemsPerS: Number((r.rps * textsPerRequest).toFixed(1)),
        ceilingItemsPerS: local,
        overCeiling: local > 0 ? Number((itemsPerS / local).toFixed(3)) : null,
        overRunCeiling: null,
        loadAverage1m,
      };
      log(
        `  ${row.setting}, ${textsPerRequest} text(s): ${row.itemsPerS} items/s (${row.overCeiling} of ${local}), embedding batch ${fixed(row.runners["embedding"]?.meanBatchSize, 2)}, load ${loadAverage1m}; ceiling after: ${after.itemsPerS} at load ${after.loadAverage1m}`,
      );
      rows.push(row);
    }
  }
  const best = rows.filter((r) => r.errors === 0).sort((a, b) => b.rps - a.rps)[0];
  return { url, api: "classify", mode, rows, recommended: best?.setting ?? null };
}

/** A closed-loop table with items/s, its ratio to the ceiling and the load average per row. */
function itemsTable(rows: readonly ItemsRow[]): string {
  const runners = [...new Set(rows.flatMap((r) => Object.keys(r.runners)))].sort();
  return mdTable(
    [
      "setting",
      "texts/request",
      "req/s",
      "items/s",
      "answered × texts /s",
      "ceiling items/s",
      "items/s ÷ ceiling",
      "÷ run's best ceiling",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      ...runners.map((n) => `mean batch ${n}`),
      "errors",
      "load avg (1 min)",
    ],
    rows.map((r) => [
      r.setting,
      r.textsPerRequest,
      fixed(r.rps, 1),
      fixed(r.itemsPerS, 1),
      fixed(r.answeredItemsPerS, 1),
      fixed(r.ceilingItemsPerS, 1),
      fixed(r.overCeiling, 3),
      fixed(r.overRunCeiling, 3),
      fixed(r.latencyMs.p50, 1),
      fixed(r.latencyMs.p95, 1),
      fixed(r.latencyMs.p99, 1),
      ...runners.map((n) => fixed(r.runners[n]?.meanBatchSize, 2)),
      r.errors,
      fixed(r.loadAverage1m, 2),
    ]),
  );
}

export async function runBatchingBench(options: { durationS?: number; log?: (line: string) => void } = {}): Promise<Record<string, unknown>> {
  const generatedAt = new Date().toISOString();
  const log = options.log ?? ((l: string) => console.error(l));
  const durationMs = (options.durationS ?? Number(process.env["BENCH_DURATION_S"] ?? 20)) * 1000;
  const home = mkdtempSync(join(tmpdir(), "bentoc-bench-home-"));
  await prepareModels({ variant: "full", only: ["support-tickets"], home, log });
  const adminToken = randomBytes(24).toString("base64url");
  const served = await serveSample("support-tickets", { home, args: ["--admin"], env: { BENTOC_ADMIN_TOKEN: adminToken } });
  try {
    const measureCeiling = () => measuredCeiling(home);
    const ceilings: Ceiling[] = [await measureCeiling()];
    log(`ceiling (first): ${ceilings[0]!.itemsPerS} items/s at batch ${ceilings[0]!.bestBatch}, load ${ceilings[0]!.loadAverage1m}`);
    // The issue's settings: fixed windows of 5, 10, 25 and 50 ms at each runner's configured max batch size.
    const closed = await closedLoop(served.url, adminToken, "off,adaptive,5,10,25,50", 1, durationMs, ceilings, measureCeiling, log);
    const multi = await closedLoop(served.url, adminToken, "adaptive", TEXTS_PER_REQUEST, durationMs, ceilings, measureCeiling, log);
    // Issue 13: the same adaptive row on the node:http backend (the served one above is uWS where it loads).
    const nodeServed = await serveSample("support-tickets", { home, args: ["--admin"], env: { BENTOC_ADMIN_TOKEN: adminToken, BENTOC_HTTP: "node" } });
    let onNode: Awaited<ReturnType<typeof closedLoop>>;
    try {
      onNode = await closedLoop(nodeServed.url, adminToken, "adaptive", 1, durationMs, ceilings, measureCeiling, log);
    } finally {
      await nodeServed.stop();
    }
    for (const r of onNode.rows) r.setting = `${r.setting} (node:http)`;
    const raw = ceilings.reduce((a, b) => (b.itemsPerS > a.itemsPerS ? b : a));
    for (const r of [...closed.rows, ...multi.rows, ...onNode.rows]) r.overRunCeiling = Number((r.itemsPerS / raw.itemsPerS).toFixed(3));
    const rate = Math.round(raw.itemsPerS * 0.7);
    const payload = JSON.stringify({ texts: [TICKET] });
    const open = await runBench({
      url: served.url,
      api: "classify",
      payload,
      contentType: "application/json",
      rate,
      durationMs,
      warmupMs: 3000,
      settings: parseSettings("adaptive"),
      adminToken,
      log,
    });
    const openLoad = load1m();
    const byLabel = (r: BenchReport, l: string) => r.rows.find((x) => x.setting === l);
    const off = byLabel(closed, "off");
    const fixedRows = closed.rows.filter((r) => r.setting !== "off" && r.setting !== "adaptive");
    const bestFixed = [...fixedRows].sort((a, b) => b.rps - a.rps)[0];
    const best = [...closed.rows].sort((a, b) => b.rps - a.rps)[0];
    const adaptive = closed.rows.find((x) => x.setting === "adaptive");
    // The sample's decorator: @batchable({ maxBatchSize: 32, maxLatencyMs: 10 }) — what `adaptive` runs with.
    const window = (setting: string): { maxLatencyMs: number; maxBatchSize: number } => {
      if (setting === "off") return { maxLatencyMs: 0, maxBatchSize: 1 };
      const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(setting);
      return m ? { maxLatencyMs: Number(m[1]), maxBatchSize: Number(m[2] ?? 32) } : { maxLatencyMs: 10, maxBatchSize: 32 };
    };
    const bestWindow = best ? window(best.setting) : { maxLatencyMs: NaN, maxBatchSize: 32 };
    const fullBatchMs = raw.perBatch[String(bestWindow.maxBatchSize)]?.ms ?? NaN;
    const openRow = open.rows[0];
    const meanBatchAtRate = openRow?.runners["embedding"]?.meanBatchSize ?? 1;
    const nearest = [1, 4, 8, 16, 32, 64].reduce((a, b) => (Math.abs(b - meanBatchAtRate) < Math.abs(a - meanBatchAtRate) ? b : a));
    const execAtRateMs = raw.perBatch[String(nearest)]?.ms ?? NaN;
    const targets = {
      bestOverOff: best && off ? Number((best.rps / off.rps).toFixed(2)) : null,
      bestOverCeiling: best ? Number((best.rps / raw.itemsPerS).toFixed(3)) : null,
      adaptiveOverBestFixed: adaptive && bestFixed ? Number((adaptive.rps / bestFixed.rps).toFixed(3)) : null,
      bestP95Ms: best?.latencyMs.p95 ?? null,
      bestSetting: best?.setting ?? null,
      bestP95BoundMs: best ? Number((bestWindow.maxLatencyMs + 2 * fullBatchMs).toFixed(1)) : null,
      openLoopP95Ms: openRow?.latencyMs.p95 ?? null,
      openLoopP95BoundMs: Number((3 * execAtRateMs).toFixed(1)),
      openLoopBatchSizeForBound: nearest,
    };
    // Issue 15: /classify at c=80, adaptive, with 1 and with 8 texts per request, as items/s ÷ the ceiling.
    const classify = Object.fromEntries(
      [adaptive, multi.rows[0], onNode.rows[0]].map((r, i) => [
        ["oneText", "eightTexts", "oneTextNodeHttp"][i] as string,
        r
          ? {
              textsPerRequest: r.textsPerRequest,
              itemsPerS: r.itemsPerS,
              answeredItemsPerS: r.answeredItemsPerS,
              ceilingItemsPerS: r.ceilingItemsPerS,
              overCeiling: r.overCeiling,
              overRunCeiling: r.overRunCeiling,
              meanBatchSize: Object.fromEntries(
                Object.entries(r.runners).map(([n, b]) => [n, b.meanBatchSize === null ? null : Number(b.meanBatchSize.toFixed(2))]),
              ),
              p95Ms: r.latencyMs.p95,
              errors: r.errors,
              loadAverage1m: r.loadAverage1m,
            }
          : null,
      ]),
    );
    const targetsMet = {
      bestOverOff: targets.bestOverOff === null ? null : targets.bestOverOff >= 2.0,
      bestOverCeiling: targets.bestOverCeiling === null ? null : targets.bestOverCeiling >= 0.9,
      adaptiveOverBestFixed: targets.adaptiveOverBestFixed === null ? null : targets.adaptiveOverBestFixed >= 0.95,
      bestP95: targets.bestP95Ms === null || targets.bestP95BoundMs === null ? null : targets.bestP95Ms <= targets.bestP95BoundMs,
      openLoopP95: targets.openLoopP95Ms === null ? null : targets.openLoopP95Ms <= targets.openLoopP95BoundMs,
    };
    const machine = machineInfo();
    const result = {
      bench: "batching",
      issues: [5, 15],
      generatedAt,
      machine,
      durationS: durationMs / 1000,
      ceiling: raw,
      ceilingMeasurements: ceilings,
      classify,
      closed,
      multi,
      onNode,
      open: { rate, loadAverage1m: openLoad, ...open },
      targets,
      targetsMet,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, "batching.svg"), renderChart(closed));
    const headline = (label: string, r: (typeof classify)[string] | undefined) =>
      r
        ? [
            label,
            fixed(r.itemsPerS, 1),
            fixed(r.ceilingItemsPerS, 1),
            fixed(r.overCeiling, 3),
            fixed(r.overRunCeiling, 3),
            fixed(r.meanBatchSize["embedding"], 2),
            fixed(r.meanBatchSize["classifier"], 2),
            fixed(r.p95Ms, 1),
            r.errors,
            fixed(r.loadAverage1m, 2),
          ]
        : [label, "–", "–", "–", "–", "–", "–", "–", "–", "–"];
    const md = [
      "# support-tickets batching benchmark",
      "",
      machineLine(generatedAt, machine),
      "",
      `The tutorial's two-runner service: the embedding runner serves the full MiniLM-L6-architecture encoder (seeded weights), the classifier runner the fitted logistic regression. \`POST /classify\` with 80 closed-loop clients, ${durationMs / 1000}s per row (after 3 s of warm-up); every text is the same ~20-word ticket, the one the ceiling is measured with. Items/s are the texts the classifier runner (the last stage) executed per second in the measured window, from the server's metrics; "answered × texts" is the client's count, coarser when requests take seconds. Each figure carries the 1-minute load average when it was taken (${machine.cpus} CPUs: a load near or above that means other work shared the machine and the figure is pessimistic).`,
      "",
      "The ceiling is raw onnxruntime-node on the encoder alone (no HTTP, no tokenizer, no classifier) at its best batch size, measured before the first row and after every row; each row is divided by the higher of the two measurements around it, and also by the highest of the run.",
      "",
      "## /classify at c=80, adaptive batching: items/s ÷ the encoder's raw ceiling",
      "",
      mdTable(
        [
          "texts per request",
          "items/s",
          "ceiling items/s",
          "items/s ÷ ceiling",
          "÷ run's best ceiling",
          "mean batch embedding",
          "mean batch classifier",
          "p95 ms",
          "errors",
          "load avg (1 min)",
        ],
        [
          headline("1", classify["oneText"]),
          headline(String(TEXTS_PER_REQUEST), classify["eightTexts"]),
          headline("1, node:http backend", classify["oneTextNodeHttp"]),
        ],
      ),
      "",
      "Ceiling measurements (items/s at the best batch size, load average at the end of each):",
      "",
      mdTable(
        ["#", "after", "items/s", "best batch", "per batch size (ms, items/s)", "load avg (1 min)"],
        ceilings.map((c, i) => [
          i,
          i === 0
            ? "start"
            : `${[...closed.rows, ...multi.rows][i - 1]?.setting ?? "?"} (${[...closed.rows, ...multi.rows][i - 1]?.textsPerRequest ?? "?"} text)`,
          fixed(c.itemsPerS, 1),
          c.bestBatch,
          Object.entries(c.perBatch)
            .map(([n, v]) => `${n}: ${v.ms} ms, ${v.itemsPerS}`)
            .join("; "),
          fixed(c.loadAverage1m, 2),
        ]),
      ),
      "",
      "![req/s and p95 per setting](batching.svg)",
      "",
      "## Closed loop, 80 clients, one text per request, per batching setting",
      "",
      itemsTable(closed.rows),
      "",
      `recommended: ${closed.recommended ?? "none"}`,
      "",
      `## Closed loop, 80 clients, ${TEXTS_PER_REQUEST} texts per request`,
      "",
      itemsTable(multi.rows),
      "",
      `## Open loop at ${rate} req/s (70% of the ceiling), one text per request (load average ${openLoad} at its end)`,
      "```",
      formatTable(open),
      "```",
      "",
      "## Targets (issue 5)",
      "",
      mdTable(
        ["target", "measured", "bound", "met"],
        [
          ["best setting / batching off", `${fixed(targets.bestOverOff, 2)}×`, "≥ 2.0×", String(targetsMet.bestOverOff)],
          ["best setting / raw ceiling", fixed(targets.bestOverCeiling, 3), "≥ 0.90", String(targetsMet.bestOverCeiling)],
          ["adaptive / best fixed window", fixed(targets.adaptiveOverBestFixed, 3), "≥ 0.95", String(targetsMet.adaptiveOverBestFixed)],
          [
            `p95 at the best setting (${targets.bestSetting}), ms`,
            fixed(targets.bestP95Ms, 1),
            `≤ ${fixed(targets.bestP95BoundMs, 1)} (maxLatencyMs + 2 × full batch)`,
            String(targetsMet.bestP95),
          ],
          [
            `open-loop p95 at ${rate} req/s, ms`,
            fixed(targets.openLoopP95Ms, 1),
            `≤ ${fixed(targets.openLoopP95BoundMs, 1)} (3 × batch of ${nearest})`,
            String(targetsMet.openLoopP95),
          ],
        ],
      ),
      "",
    ].join("\n");
    writeResults("batching", result, md);
    return result;
  } finally {
    await served.stop();
    rmSync(served.outDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const r = await runBatchingBench();
  console.log(JSON.stringify({ classify: r["classify"], targets: r["targets"] }, null, 2));
}
