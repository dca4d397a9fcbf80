/**
 * The real Prometheus server (Debian package `prometheus`) for end-to-end tests: a temp config that
 * scrapes the given targets every second, a temp TSDB directory, a free port; `query(promql)` through
 * the HTTP API. Also `checkPromql` via `promtool` for validating dashboard expressions.
 *
 * A missing binary throws. Tests may skip when it is missing locally, never when `CI=true`
 * (`prometheusRequired()` tells which).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface PrometheusSample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  readonly url: string;
  /** Instant query; throws on a PromQL error. NaN values are returned as NaN. */
  query(promql: string): Promise<PrometheusSample[]>;
  /** Polls `query` until `accept` returns true (or throws after `timeoutMs` with the last result). */
  waitFor(promql: string, accept: (r: PrometheusSample[]) => boolean, timeoutMs?: number): Promise<PrometheusSample[]>;
  /** Health of the scrape targets ("up", "down", "unknown"), by scrape URL. */
  targets(): Promise<Record<string, { health: string; lastError: string }>>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** host:port pairs to scrape. */
  targets: string[];
  metricsPath?: string;
  scrapeIntervalSeconds?: number;
  /** How long to wait for `/-/ready`. */
  readyTimeoutMs?: number;
}

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  for (const p of [`/usr/bin/${name}`, `/usr/local/bin/${name}`]) if (existsSync(p)) return p;
  return undefined;
}

export function prometheusBinary(): string | undefined {
  return process.env.PROMETHEUS_BIN ?? which("prometheus");
}

export function promtoolBinary(): string | undefined {
  return process.env.PROMTOOL_BIN ?? which("promtool");
}

/** True when a test needing Prometheus must run (CI) or can run (binary present). */
export function prometheusRequired(): boolean {
  return process.env.CI === "true" || prometheusBinary() !== undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseValue(v: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  return Number(v); // "NaN" → NaN
}

export async function startPrometheus(options: StartPrometheusOptions): Promise<Prometheus> {
  const bin = prometheusBinary();
  if (!bin) throw new Error("prometheus binary not found (apt-get install prometheus, or set PROMETHEUS_BIN)");
  const dir = await mkdtemp(join(tmpdir(), "bentoc-prometheus-"));
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    "scrape_configs:",
    "  - job_name: bentoc",
    `    scrape_interval: ${interval}`,
    `    scrape_timeout: ${interval}`,
    `    metrics_path: ${JSON.stringify(options.metricsPath ?? "/metrics")}`,
    "    static_configs:",
    `      - targets: ${JSON.stringify(options.targets)}`,
    "",
  ].join("\n");
  const configFile = join(dir, "prometheus.yml");
  await writeFile(configFile, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bin,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString("utf8")).slice(-8000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exited = code;
      resolve();
    }),
  );

  const cleanup = async () => {
    if (exited === undefined) {
      child.kill("SIGTERM");
      await Promise.race([exit, sleep(10_000)]);
      if (exited === undefined) {
        child.kill("SIGKILL");
        await exit;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited !== undefined) {
      await cleanup();
      throw new Error(`prometheus exited with ${exited} before ready:\n${stderr}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await cleanup();
      throw new Error(`prometheus not ready after ${options.readyTimeoutMs ?? 30_000} ms:\n${stderr}`);
    }
    await sleep(100);
  }

  async function query(promql: string): Promise<PrometheusSample[]> {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== "success" || !body.data) throw new Error(`PromQL ${promql}: ${body.error ?? res.status}`);
    const { resultType, result } = body.data;
    if (resultType === "scalar") {
      const [, v] = result as [number, string];
      return [{ metric: {}, value: parseValue(v) }];
    }
    if (resultType !== "vector") throw new Error(`PromQL ${promql}: unexpected result type ${resultType}`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: parseValue(r.value[1]),
    }));
  }

  async function targets(): Promise<Record<string, { health: string; lastError: string }>> {
    const res = await fetch(`${url}/api/v1/targets`);
    const body = (await res.json()) as { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
    return Object.fromEntries(body.data.activeTargets.map((t) => [t.scrapeUrl, { health: t.health, lastError: t.lastError }]));
  }

  return {
    url,
    query,
    targets,
    async waitFor(promql, accept, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      let last: PrometheusSample[] = [];
      for (;;) {
        last = await query(promql);
        if (accept(last)) return last;
        if (Date.now() > end) {
          throw new Error(`timed out waiting for ${promql}; last result ${JSON.stringify(last)}; targets ${JSON.stringify(await targets())}`);
        }
        await sleep(250);
      }
    },
    stop: cleanup,
  };
}

/** Grafana variables replaced by something PromQL parses: `$__rate_interval` etc. → `1m`, `$var` → `var`. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$(?:__rate_interval|__interval|__range)\b|\$\{(?:__rate_interval|__interval|__range)\}/g, "1m")
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => a ?? b ?? "");
}

/** Parses each expression with `promtool check rules`; returns the error text per failing expression. */
export async function checkPromql(exprs: readonly string[]): Promise<{ expr: string; error: string }[]> {
  const bin = promtoolBinary();
  if (!bin) throw new Error("promtool binary not found (apt-get install prometheus, or set PROMTOOL_BIN)");
  const dir = await mkdtemp(join(tmpdir(), "bentoc-promtool-"));
  try {
    const results = await Promise.all(
      exprs.map(async (expr, i) => {
        const file = join(dir, `rule-${i}.yml`);
        await writeFile(file, `groups:\n  - name: check\n    rules:\n      - record: bentoc_check_${i}\n        expr: ${JSON.stringify(expr)}\n`);
        return new Promise<{ expr: string; error: string } | undefined>((resolve) => {
          execFile(bin, ["check", "rules", file], (err, stdout, stderr) => {
            resolve(err ? { expr, error: `${stdout}${stderr}`.trim() } : undefined);
          });
        });
      }),
    );
    return results.filter((r): r is { expr: string; error: string } => r !== undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `promtool check metrics` on a text exposition: the lint/parse problems it reports, one per line. */
export async function lintMetricsText(text: string): Promise<string[]> {
  const bin = promtoolBinary();
  if (!bin) throw new Error("promtool binary not found (apt-get install prometheus, or set PROMTOOL_BIN)");
  return new Promise((resolve, reject) => {
    const child = execFile(bin, ["check", "metrics"], (err, stdout, stderr) => {
      const lines = `${stdout}${stderr}`
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      if (err && lines.length === 0) reject(err);
      else resolve(err ? lines : []);
    });
    child.stdin?.end(text);
  });
}
