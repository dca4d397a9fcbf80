import { defineConfig } from "vitest/config";

// Two projects: fast unit tests (compiler stages, dispatcher, store, codecs) and slow end-to-end tests
// (real server, real ONNX models, Chromium, Prometheus, containers). `npm test` runs both, after the
// global setup has built dist/ (the built CLI and the "bentoc" self-reference are what the tests use).
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
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          pool: "forks",
          fileParallelism: false,
        },
      },
    ],
  },
});
