/** `bentoc bench --url URL --api NAME --payload FILE [--concurrency N | --rate R] [--duration 20s] [--windows …]` */

import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new Error(`invalid duration '${s}' (e.g. 20s, 500ms, 1m)`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
}

export function register(program: Command): void {
  program
    .command("bench")
    .description("Load-test an API under several batching settings and recommend one (server must run with --admin)")
    .requiredOption("--url <url>", "base URL of a running bentoc server")
    .requiredOption("--api <name>", "API name (operationId) or route")
    .requiredOption("--payload <file>", "request body file")
    .option("--content-type <type>", "request content type", "application/json")
    .option("--concurrency <n>", "closed loop: concurrent clients", "80")
    .option("--rate <r>", "open loop: requests per second (latency measured from the scheduled start)")
    .option("--duration <d>", "measured duration per setting", "20s")
    .option("--warmup <d>", "unmeasured warm-up per setting", "2s")
    .option("--windows <list>", "settings: off, adaptive, <ms> or <ms>/<max batch>", "off,adaptive,5/16,10/32,25/32,50/64")
    .option("--runner <name>", "runner to reconfigure (default: all)")
    .option(
      "--metrics <url>",
      "also read runner batch sizes from this server's /metrics (a split-out runner; repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--admin-token <token>", "the server's admin token (printed by `bentoc serve --admin`; default BENTOC_ADMIN_TOKEN)")
    .option("--slo-p95 <ms>", "recommend the best throughput whose p95 is within this bound")
    .option("--json <file>", "write the results as JSON")
    .option("--svg <file>", "write a chart of throughput and p95 per setting")
    .action(async (flags: Record<string, string | undefined> & { metrics?: string[] }) => {
      const { formatTable, parseSettings, renderChart, runBench } = await import("../../loadtest/bench-runner.ts");
      const adminToken = flags["adminToken"] ?? process.env["BENTOC_ADMIN_TOKEN"];
      if (!adminToken) {
        process.stderr.write("error: bench needs the server's admin token: --admin-token, or BENTOC_ADMIN_TOKEN (`bentoc serve --admin` prints one)\n");
        process.exitCode = 1;
        return;
      }
      const options: Parameters<typeof runBench>[0] = {
        url: flags["url"] ?? "",
        api: flags["api"] ?? "",
        payload: readFileSync(flags["payload"] ?? ""),
        contentType: flags["contentType"] ?? "application/json",
        durationMs: parseDuration(flags["duration"] ?? "20s"),
        warmupMs: parseDuration(flags["warmup"] ?? "2s"),
        settings: parseSettings(flags["windows"] ?? "off,adaptive"),
        adminToken,
        log: (line) => process.stderr.write(`${line}\n`),
      };
      if (flags["rate"] !== undefined) options.rate = Number(flags["rate"]);
      else options.concurrency = Number(flags["concurrency"] ?? 80);
      if (flags["runner"]) options.runner = flags["runner"];
      if (flags.metrics?.length) options.metricsUrls = flags.metrics;
      if (flags["sloP95"]) options.sloP95Ms = Number(flags["sloP95"]);
      let report: Awaited<ReturnType<typeof runBench>>;
      try {
        report = await runBench(options);
      } catch (err) {
        const cause = (err as Error).cause as { code?: string } | undefined;
        const why = cause?.code === "ECONNREFUSED" ? `nothing answers at ${options.url} (is \`bentoc serve --admin\` running?)` : (err as Error).message;
        process.stderr.write(`error: ${why}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${formatTable(report)}\n`);
      if (flags["json"]) writeFileSync(flags["json"], `${JSON.stringify(report, null, 2)}\n`);
      if (flags["svg"]) writeFileSync(flags["svg"], renderChart(report));
    });
}
