/**
 * A small HTTP load generator for `bentoc bench`: closed loop (N clients, each sends its next request when
 * the previous one answers) or open loop (requests start on a fixed schedule whatever the answers, and
 * latency is measured from the scheduled start, so a stalled server cannot hide its queueing —
 * no coordinated omission). Uses node:http with a keep-alive agent: it costs the machine less CPU per
 * request than fetch, which matters when the generator shares a small machine with the server.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
export interface LoadOptions {
  url: string;
  method?: "POST" | "GET";
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  durationMs: number;
  /** Closed loop: this many clients in flight. */
  concurrency?: number;
  /** Open loop: requests per second. */
  rate?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Requests before `warmupMs` are sent but not counted. */
  warmupMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** Status code → count, plus `network` for failures without a response. */
  statuses: Record<string, number>;
  durationS: number;
  rps: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number; max: number };
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const start = performance.now();
  const warmupEnd = start + (options.warmupMs ?? 0);
  const end = warmupEnd + options.durationMs;
  const url = new URL(options.url);
  const secure = url.protocol === "https:";
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: Infinity }) : new HttpAgent({ keepAlive: true, maxSockets: Infinity });
  const method = options.method ?? "POST";
  const body = options.body !== undefined && method !== "GET" ? Buffer.from(options.body) : undefined;
  const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
  if (body) headers["content-length"] = body.byteLength;
  const send = secure ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? 30_000;

  /** One request; resolves to its status code, or "network" when there was no complete response. */
  const exchange = (): Promise<string> =>
    new Promise((resolve) => {
      const req = send(url, { method, headers, agent }, (res: IncomingMessage) => {
        res.on("data", () => {});
        res.on("end", () => resolve(String(res.statusCode)));
        res.on("error", () => resolve("network"));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve("network"));
      req.end(body);
    });

  const one = async (scheduledAt: number): Promise<void> => {
    const status = await exchange();
    const done = performance.now();
    if (scheduledAt < warmupEnd || done > end + 5_000) return;
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status !== "200") errors++;
    latencies.push(done - scheduledAt);
  };

  if (options.rate !== undefined) {
    const interval = 1000 / options.rate;
    const inflight = new Set<Promise<void>>();
    let next = start;
    while (next < end) {
      const now = performance.now();
      if (now < next) await new Promise((r) => setTimeout(r, Math.max(0, next - now - 0.5)));
      while (next <= performance.now() && next < end) {
        const p = one(next).finally(() => inflight.delete(p));
        inflight.add(p);
        next += interval;
      }
    }
    await Promise.all(inflight);
  } else {
    const clients = options.concurrency ?? 1;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < end) await one(performance.now());
      }),
    );
  }
  agent.destroy();
  const measured = Math.min(performance.now(), end) - warmupEnd;
  const sorted = latencies.sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    requests: sorted.length,
    errors,
    statuses,
    durationS: measured / 1000,
    rps: statuses["200"] ? (statuses["200"] ?? 0) / (measured / 1000) : 0,
    latencyMs: {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      mean: sorted.length ? sum / sorted.length : NaN,
      max: sorted[sorted.length - 1] ?? NaN,
    },
  };
}
