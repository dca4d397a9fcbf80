/**
 * Starts a sample for an end-to-end test the way a user does: its models prepared in a temp model store
 * (tiny MiniLM variant, real ONNX), compiled with the real compiler, served by `bentoc serve` as a child
 * process on a free port. Resolves once /readyz answers 200.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/compile.ts";
import { prepareModels, type SampleModel } from "../../scripts/models/prepare.ts";
import { freePort } from "./prometheus.ts";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
/** The built CLI (`npm run build`; vitest's global setup keeps dist/ current), as a user's `bentoc` runs it. */
export const bentocBin = join(repoRoot, "dist/cli/bentoc.js");

export interface ServedSample {
  url: string;
  port: number;
  outDir: string;
  home: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A temp model store holding the samples' models (shared by the tests of one file). */
export async function prepareHome(only: SampleModel[]): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), "bentoc-home-"));
  await prepareModels({ variant: "tiny", only, home, log: () => {} });
  return home;
}

export async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready after ${timeoutMs} ms:\n${output()}`);
}

export function startBentoc(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let out = "";
  const child = spawn(process.execPath, [bentocBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  return { child, output: () => out };
}

export async function serveSample(sample: string, options: { home: string; env?: NodeJS.ProcessEnv; args?: string[]; outDir?: string }): Promise<ServedSample> {
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), `bentoc-${sample}-`));
  const result = await compile({ entry: join(repoRoot, "samples", sample), outDir });
  if (!result.manifest) throw new Error(`compile of ${sample} failed: ${JSON.stringify(result.diagnostics)}`);
  const port = await freePort();
  const { child, output } = startBentoc(["serve", outDir, "--port", String(port), "--host", "127.0.0.1", ...(options.args ?? [])], {
    BENTOC_HOME: options.home,
    BENTOC_LOG_LEVEL: "warn",
    ...options.env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, output);
  // with --workers the first worker answers /readyz before the others are up and the banner is printed
  for (const until = Date.now() + 30_000; !output().includes("bentoc: serving") && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  expectBackend(output());
  return {
    url,
    port,
    outDir,
    home: options.home,
    child,
    output,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

/** When a backend is forced (`BENTOC_HTTP`, the `e2e-node` project), the server's banner must name it. */
export function expectBackend(banner: string): void {
  const forced = process.env["BENTOC_HTTP"];
  if ((forced === "node" || forced === "uws") && !banner.includes(`(http: ${forced}`)) {
    throw new Error(`BENTOC_HTTP=${forced}, but the server did not report that backend:\n${banner}`);
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
