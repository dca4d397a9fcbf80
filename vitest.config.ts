import { delimiter } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tools the project's own scripts install for the tests (kubectl: scripts/install-kubectl.sh, run by
// scripts/ci-deps.sh) come first on the tests' PATH, so every machine uses the same build.
process.env["PATH"] = `${fileURLToPath(new URL(".cache/tools/bin", import.meta.url))}${delimiter}${process.env["PATH"] ?? ""}`;

/**
 * End-to-end tests that serve over HTTP. `npm test` runs them twice: once with the default backend
 * (`auto`: uWebSockets.js where its native build loads, as on Node 20 here) in the `e2e` project, and
 * once with node:http forced in `e2e-node` (the backend of Node 22+), which `npm test` runs under Node 24
 * (scripts/run-under-node.mjs; the servers it starts run under that Node too). The HTTP contract suite
 * runs against both backends by itself. The OpenAPI fuzzer sends 105,000 requests in `e2e` and 30,000
 * in `e2e-node`.
 */
const SERVER_E2E = [
  "admin-batching",
  "client-browser",
  "client-node",
  "hostile-input",
  "observability-server-prometheus",
  "observability-server-tracing",
  "ocr-deadline",
  "openapi-fuzz",
  "serve-reload",
  "serve-source-tracing",
  "server-errors",
  "server-fuzz",
  "server-shutdown",
  "split-support-tickets",
  "streaming",
  "v2-protocol",
  "workers-metrics",
].map((name) => `test/e2e/${name}.test.ts`);

const e2e = { testTimeout: 300_000, hookTimeout: 600_000, pool: "forks", fileParallelism: false } as const;

// Three projects: fast unit tests (compiler stages, dispatcher, store, codecs), slow end-to-end tests
// (real server, real ONNX models, Chromium, Prometheus, containers), then the server e2e tests again on
// node:http (under Node 24). `npm test` runs all three, after the global setup has built dist/ (the built CLI and the
// "bentoc" self-reference are what the tests use).
export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], ...e2e },
      },
      {
        test: { name: "e2e-node", include: SERVER_E2E, env: { BENTOC_HTTP: "node", FUZZ_REQUESTS: "30000" }, sequence: { groupOrder: 1 }, ...e2e },
      },
    ],
  },
});
