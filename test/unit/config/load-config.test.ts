import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_AJV_OPTIONS } from "../../../runtime/config/config-ajv-options.ts";
import { configSchema } from "../../../runtime/config/config-schema.ts";
import { ConfigError, loadConfig, methodBatching, printConfig } from "../../../runtime/config/load-config.ts";
import type { Manifest, RunnerMethodManifest } from "../../../sdk/manifest.ts";

function method(name: string, maxBatchSize: number, maxLatencyMs: number): RunnerMethodManifest {
  return { name, batchable: true, batchDim: 0, maxBatchSize, maxLatencyMs, groupByLength: false, input: {}, output: {} };
}

const manifest: Manifest = {
  schemaVersion: 3,
  compiler: "test",
  service: {
    name: "support-tickets",
    className: "SupportTickets",
    version: "1.0.0",
    labels: {},
    traffic: { timeoutMs: 10_000, maxConcurrency: 512 },
    resources: {},
    secrets: [],
    apis: [],
    dependencies: [],
  },
  runners: [
    {
      name: "ticket-classifier",
      className: "TicketClassifier",
      model: null,
      placement: "inline",
      resources: {},
      threads: 2,
      scaling: { minReplicas: 1, maxReplicas: 10 },
      methods: [method("classify", 64, 5), method("embed", 8, 20)],
    },
  ],
  models: [],
  $defs: {},
  entry: { source: "service.ts", bundle: "bundle.mjs" },
};

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bentoc-config-"));
  const file = join(dir, "bentoc.yaml");
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("starts from the documented defaults", () => {
    const c = loadConfig({ file: null, env: {} });
    expect(c.server).toMatchObject({
      host: "0.0.0.0",
      port: 3000,
      workers: 1,
      maxBodyBytes: 10 * 1024 * 1024,
      drainMs: 30_000,
      accessLog: true,
      cors: { enabled: false },
    });
    expect(c.metrics.enabled).toBe(true);
    expect(c.tracing).toEqual({ sampleRate: 0, endpoint: null, headers: {}, protocol: null });
    expect(c.logging.level).toBe("info");
    expect(c.home).toMatch(/\.bentoc$/);
  });

  it("layers defaults ← decorators ← bentoc.yaml ← env ← overrides, per method", () => {
    const file = yamlFile(`
server:
  port: 4000
  max_concurrency: 100
runners:
  ticket-classifier:
    placement: worker
    batching:
      max_latency_ms: 2
    methods:
      embed:
        maxBatchSize: 4
`);
    const env = { BENTOC_PORT: "5000", BENTOC_RUNNERS__TICKET_CLASSIFIER__BATCHING__MAX_QUEUE_SIZE: "77" };
    const c = loadConfig({ manifest, file, env, overrides: { server: { host: "127.0.0.1" }, runners: { "ticket-classifier": { threads: 1 } } } });
    expect(c.server.timeoutMs).toBe(10_000); // decorator
    expect(c.server.maxConcurrency).toBe(100); // file over decorator
    expect(c.server.port).toBe(5000); // env over file
    expect(c.server.host).toBe("127.0.0.1"); // override
    const rc = c.runners["ticket-classifier"];
    expect(rc?.placement).toBe("worker");
    expect(rc?.threads).toBe(1);
    // classify: decorator 64 / 5ms, runner-level latency 2 from the file, queue 77 from env.
    expect(rc?.methods["classify"]).toEqual({ enabled: true, maxBatchSize: 64, maxLatencyMs: 2, maxQueueSize: 77 });
    expect(rc?.methods["embed"]).toEqual({ enabled: true, maxBatchSize: 4, maxLatencyMs: 2, maxQueueSize: 77 });
    expect(methodBatching(c, manifest.runners[0]!, "embed").maxBatchSize).toBe(4);
  });

  it("uses decorator values when nothing overrides them", () => {
    const c = loadConfig({ manifest, file: null, env: {} });
    expect(c.runners["ticket-classifier"]?.threads).toBe(2);
    expect(c.runners["ticket-classifier"]?.methods["classify"]).toEqual({ enabled: true, maxBatchSize: 64, maxLatencyMs: 5, maxQueueSize: 1000 });
    expect(c.runners["ticket-classifier"]?.methods["embed"]?.maxLatencyMs).toBe(20);
  });

  it("reads the named and generic env vars", () => {
    const c = loadConfig({
      manifest,
      file: null,
      env: {
        BENTOC_HOME: "/srv/models",
        BENTOC_HOST: "::",
        BENTOC_WORKERS: "4",
        BENTOC_LOG_LEVEL: "debug",
        BENTOC_TRACING_SAMPLE_RATE: "0.25",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
        BENTOC_SERVER__CORS__ENABLED: "true",
        BENTOC_SERVER__CORS__ORIGINS: "https://a.example, https://b.example",
        BENTOC_RUNNERS__TICKET_CLASSIFIER__METHODS__EMBED__ENABLED: "false",
        BENTOC_RUNNERS__TICKET_CLASSIFIER__THREADS: "null",
      },
    });
    expect(c.home).toBe("/srv/models");
    expect(c.server.host).toBe("::");
    expect(c.server.workers).toBe(4);
    expect(c.logging.level).toBe("debug");
    expect(c.tracing.sampleRate).toBe(0.25);
    expect(c.tracing.endpoint).toBe("http://collector:4318/v1/traces");
    expect(c.server.cors).toEqual({ enabled: true, origins: ["https://a.example", "https://b.example"] });
    expect(c.runners["ticket-classifier"]?.methods["embed"]?.enabled).toBe(false);
    expect(c.runners["ticket-classifier"]?.methods["classify"]?.enabled).toBe(true);
    expect(c.runners["ticket-classifier"]?.threads).toBeNull();
    const traces = loadConfig({ file: null, env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://x:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://y/v1/traces" } });
    expect(traces.tracing.endpoint).toBe("http://y/v1/traces");
  });

  it("names the env var of a bad value or an unknown path", () => {
    expect(configError(() => loadConfig({ file: null, env: { BENTOC_PORT: "eighty" } })).message).toMatch(/env BENTOC_PORT.*must be a number/);
    expect(configError(() => loadConfig({ file: null, env: { BENTOC_PORT: "70000" } })).message).toMatch(/env BENTOC_PORT: server\.port: must be <= 65535/);
    expect(configError(() => loadConfig({ file: null, env: { BENTOC_SERVER__PROT: "1" } })).message).toMatch(/env BENTOC_SERVER__PROT.*unknown key "PROT"/);
  });

  it("reports an unknown key or a wrong type with its key path and file line", () => {
    const file = yamlFile(`server:
  port: 3000
runners:
  ticket-classifier:
    batching:
      max_batch_sise: 16
      max_latency_ms: soon
`);
    const err = configError(() => loadConfig({ manifest, file, env: {} }));
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          source: `${file}:6`,
          path: "runners.ticket-classifier.batching.max_batch_sise",
          message: expect.stringMatching(/unknown key \(allowed: enabled, maxBatchSize/),
        }),
        expect.objectContaining({ source: `${file}:7`, path: "runners.ticket-classifier.batching.max_latency_ms", message: "must be number" }),
      ]),
    );
    expect(err.message).toContain(`${file}:6: runners.ticket-classifier.batching.max_batch_sise: unknown key`);
  });

  it("rejects a runner or method the service does not have, and YAML syntax errors, with lines", () => {
    const unknownRunner = yamlFile(`runners:\n  ticket-clasifier:\n    threads: 2\n`);
    expect(configError(() => loadConfig({ manifest, file: unknownRunner, env: {} })).message).toMatch(
      /:2: runners\.ticket-clasifier: no runner named "ticket-clasifier".*ticket-classifier/,
    );
    const unknownMethod = yamlFile(`runners:\n  ticket-classifier:\n    methods:\n      predict:\n        enabled: false\n`);
    expect(configError(() => loadConfig({ manifest, file: unknownMethod, env: {} })).message).toMatch(/:4: .*no batchable method "predict"/);
    const broken = yamlFile(`server:\n  port: 3000\n  host: a: b\n`);
    expect(configError(() => loadConfig({ file: broken, env: {} })).message).toMatch(/bentoc\.yaml:3/);
    expect(configError(() => loadConfig({ file: "/nonexistent/bentoc.yaml", env: {} })).message).toMatch(/not found/);
  });

  it("finds ./bentoc.yaml in cwd and prints a config that loads back to itself", () => {
    const file = yamlFile(`logging:\n  level: warn\n`);
    const c = loadConfig({ manifest, env: {}, cwd: join(file, "..") });
    expect(c.logging.level).toBe("warn");
    const yaml = printConfig(c, "yaml");
    expect(yaml).toContain("max_batch_size: 64");
    expect(yaml).toContain("ticket-classifier:");
    const again = loadConfig({ manifest, env: {}, file: yamlFile(yaml) });
    expect(again).toEqual(c);
    expect(JSON.parse(printConfig(c, "json"))).toEqual(c);
    expect(parse(yaml).server.max_body_bytes).toBe(10 * 1024 * 1024);
  });
});

describe("the config schema", () => {
  it("is a valid draft-07 schema (the runtime compiles it without ajv's meta-schema check)", () => {
    const ajv = new Ajv({ ...CONFIG_AJV_OPTIONS, validateSchema: true });
    expect(ajv.validateSchema(configSchema), JSON.stringify(ajv.errors)).toBe(true);
  });
});
