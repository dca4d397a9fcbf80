/**
 * The OpenAPI-driven fuzzer: each sample is served by a real `bentoc serve` process and sent requests
 * generated from its own `/docs.json` (test/fuzz/): valid, boundary and invalid bodies for every schema,
 * wrong content types, malformed and truncated bodies, random bytes, hostile images, method and path noise.
 * Seeded (FUZZ_SEED) and bounded (FUZZ_REQUESTS, default 105,000 over the three samples).
 *
 * What must hold: no 5xx at all; the process never dies; every error is the catalogue's body; every valid
 * request is answered 200 with a body its response schema accepts; memory stays bounded (RSS after the
 * run against RSS after warm-up). The count and the 5xx total are printed at the end.
 */

import { readFileSync } from "node:fs";
import http from "node:http";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isErrorCode } from "../../contract/error-catalogue.ts";
import { type FuzzRequest, OpenApiRequests } from "../fuzz/openapi-requests.ts";
import { seeded } from "../fuzz/schema-sampler.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

const SEED = Number(process.env["FUZZ_SEED"] ?? 20261201);
const TOTAL = Number(process.env["FUZZ_REQUESTS"] ?? 105_000);
const CONCURRENCY = 16;
/**
 * A hang guard per sample, not a speed requirement. Valid requests at their boundaries are the most work a
 * schema allows: for support-tickets, 64 texts of 4000 characters (each cut to 256 tokens by the encoder) —
 * about 0.3 s of encoder time each with the tiny model, and one batch runs at a time — so its share takes
 * minutes on a 2-core machine, longer when it is shared.
 */
const HANG_GUARD_MS = 900_000;
/** Requests per sample (share of TOTAL) and the share of valid ones (OCR's are slow to serve). */
const SAMPLES: { name: string; share: number; validShare: number }[] = [
  { name: "support-tickets", share: 0.45, validShare: 0.25 },
  { name: "tabular", share: 0.4, validShare: 0.25 },
  { name: "ocr", share: 0.15, validShare: 0.02 },
];

interface Tally {
  sent: number;
  statuses: Map<number, number>;
  fiveXX: string[];
  problems: string[];
}

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

function send(agent: http.Agent, port: number, r: FuzzRequest): Promise<{ status: number; body: string; contentType: string }> {
  return new Promise((resolve) => {
    // Node's client frames an OPTIONS or DELETE body by nothing unless told: the body would read as the
    // next request. Always state its length.
    const headers = r.body ? { ...r.headers, "content-length": String(r.body.byteLength) } : r.headers;
    const req = http.request({ host: "127.0.0.1", port, method: r.method, path: r.path, headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), contentType: String(res.headers["content-type"] ?? "") }),
      );
      res.on("error", () => resolve({ status: 0, body: "", contentType: "" }));
    });
    // A connection the server closed (a 413/408 answered early) is not a server failure: status 0.
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ status: 0, body: err.code ?? err.message, contentType: "" }));
    req.on("timeout", () => req.destroy());
    req.end(r.body);
  });
}

describe("OpenAPI-driven fuzzing of the three samples", () => {
  let home = "";
  const report: string[] = [];
  let totalSent = 0;
  let total5xx = 0;

  beforeAll(async () => {
    home = await prepareHome(["support-tickets", "tabular", "ocr"]);
  });
  afterAll(() => {
    console.log(`openapi fuzz (seed ${SEED}): ${totalSent} requests, ${total5xx} 5xx\n${report.join("\n")}`);
    if (home) removeDir(home);
  });

  for (const sample of SAMPLES) {
    it(
      `${sample.name}: ${Math.round(TOTAL * sample.share)} generated requests, no 5xx, valid ones answered by the schema`,
      async () => {
        const served: ServedSample = await serveSample(sample.name, { home, env: { BENTOC_LOG_LEVEL: "error" } });
        const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
        try {
          const doc = (await (await fetch(`${served.url}/docs.json`)).json()) as ConstructorParameters<typeof OpenApiRequests>[0];
          const requests = new OpenApiRequests(doc, seeded(SEED ^ sample.name.length), sample.validShare);
          const ajv = new Ajv2020({ strict: false, allErrors: false });
          const validators = new Map<Record<string, unknown>, ReturnType<Ajv2020["compile"]>>();
          // Each response schema with the document's components beside it, so its `#/components/...` refs resolve.
          const validator = (schema: Record<string, unknown>) => {
            let v = validators.get(schema);
            if (!v) {
              v = ajv.compile({ ...schema, components: doc.components ?? {} });
              validators.set(schema, v);
            }
            return v;
          };
          // Warm up (JIT, models), then take the baseline memory.
          for (let i = 0; i < 200; i++) await send(agent, served.port, requests.next());
          const before = memory(served.child.pid!);
          const n = Math.round(TOTAL * sample.share);
          const tally: Tally = { sent: 0, statuses: new Map(), fiveXX: [], problems: [] };
          const worker = async (): Promise<void> => {
            while (tally.sent < n) {
              tally.sent++;
              const r = requests.next();
              const res = await send(agent, served.port, r);
              tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1);
              const what = `${r.kind} ${r.method} ${r.path.slice(0, 80)} ${r.headers["content-type"] ?? ""}`;
              if (res.status >= 500) tally.fiveXX.push(`${res.status} for ${what}: ${res.body.slice(0, 200)}`);
              else if (r.kind === "valid") {
                if (res.status !== 200) tally.problems.push(`valid request answered ${res.status} (${res.body.slice(0, 160)}) for ${what}`);
                else if (r.responseSchema && res.contentType.startsWith("application/json")) {
                  const check = validator(r.responseSchema);
                  if (!check(JSON.parse(res.body)))
                    tally.problems.push(`valid request's answer does not match its schema (${ajv.errorsText(check.errors)}) for ${what}`);
                }
              } else if (res.status >= 400 && r.method !== "HEAD") {
                let body: { code?: unknown; error?: unknown } = {};
                try {
                  body = JSON.parse(res.body) as typeof body;
                } catch {
                  tally.problems.push(`${res.status} without a JSON error body for ${what}`);
                }
                if (typeof body.error !== "string" || typeof body.code !== "string" || !isErrorCode(body.code))
                  tally.problems.push(`${res.status} ${res.body.slice(0, 120)} for ${what}`);
              }
            }
          };
          await Promise.all(Array.from({ length: CONCURRENCY }, worker));
          const after = memory(served.child.pid!);
          totalSent += tally.sent;
          total5xx += tally.fiveXX.length;
          const statuses = Object.fromEntries([...tally.statuses].sort((a, b) => a[0] - b[0]));
          report.push(
            `  ${sample.name}: ${tally.sent} requests, statuses ${JSON.stringify(statuses)}, RSS ${before.rss} → ${after.rss} MiB (peak ${after.peak} MiB)`,
          );
          expect(tally.fiveXX.slice(0, 10)).toEqual([]);
          expect(tally.problems.slice(0, 10)).toEqual([]);
          expect(served.child.exitCode).toBeNull();
          expect((await fetch(`${served.url}/livez`)).status).toBe(200);
          // Most requests reached the service, or the fuzzer tested nothing.
          expect((tally.statuses.get(200) ?? 0) + (tally.statuses.get(400) ?? 0)).toBeGreaterThan(n / 3);
          // Memory stays bounded: what a long run leaves behind is small next to the process.
          expect(after.rss - before.rss).toBeLessThan(256);
        } finally {
          agent.destroy();
          await served.stop();
          removeDir(served.outDir);
        }
      },
      HANG_GUARD_MS,
    );
  }
});
