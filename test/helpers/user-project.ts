/**
 * A user's own project outside the repository (under the OS temp dir): bentoc packed with `npm pack`,
 * installed with the documented command from the tarball and the npm registry alone, and commands run in
 * it as a user runs them. Child processes get an environment without the `npm_*` variables of the npm
 * that may have started the tests, so nested npm commands behave as in a user's shell.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The documented install: `ONNXRUNTIME_NODE_INSTALL=skip npm install bentoc` (here the tarball stands for the name). */
export const INSTALL_ENV = { ONNXRUNTIME_NODE_INSTALL: "skip" } as const;

export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD" && k !== "NODE_OPTIONS") env[k] = v;
  return { ...env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra };
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion; rejects with its output when it exits non-zero or outlives `timeoutMs`.
 * Asynchronous on purpose: an npm install takes a minute, and a test worker blocked that long misses its
 * runner's calls.
 */
export function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: userEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(" ")} (in ${cwd}) did not start: ${err.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${code ?? signal}:\n${stdout}\n${stderr}`));
    });
  });
}

/** `npm pack` of the repository into `dest`; returns the tarball's path (prepack builds dist/ first). */
export async function packRepo(repoRoot: string, dest: string): Promise<string> {
  const r = await run("npm", ["pack", "--json", "--pack-destination", dest], repoRoot);
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as { filename: string }[];
  if (!info) throw new Error(`npm pack printed no file: ${r.stdout}`);
  return join(dest, info.filename);
}

/** A new empty project (`npm init -y`) in the OS temp dir. */
export async function newProject(prefix = "bentoc-user-"): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  await run("npm", ["init", "-y"], dir);
  return dir;
}

export interface Server {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, then the exit code (or the signal's name when it died of one). */
  stop(): Promise<number | string | null>;
}

/**
 * Starts a long-running command (a server) with its output collected, in a process group of its own.
 * stop() sends SIGTERM to the process, as a supervisor does; with `group` to the whole group instead, for
 * `npx bentoc serve` (npm → sh → node), since npm does not pass SIGTERM on.
 */
export function start(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, url: string, options: { group?: boolean } = {}): Server {
  let out = "";
  const child = spawn(cmd, args, { cwd, env: userEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  // a server left behind by a failed test still goes when the test process does
  const reap = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
  };
  process.once("exit", reap);
  return {
    child,
    url,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode);
        child.once("exit", (code, signal) => resolve(code ?? signal));
        process.kill(options.group ? -child.pid! : child.pid!, "SIGTERM");
      }),
  };
}

/**
 * Resolves when GET /readyz answers 200 and the CLI has printed its "serving" banner (with --workers, the
 * first worker answers before the others are up and before the primary handles SIGTERM); otherwise fails
 * with the last answer and the server's output.
 */
export async function waitReady(server: Server, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`server exited with ${server.child.exitCode}:\n${server.output()}`);
    const answer = await fetch(`${server.url}/readyz`).then(
      async (r) => ({ ok: r.ok, text: `${r.status} ${await r.text()}` }),
      (e: Error) => ({ ok: false, text: e.message }),
    );
    if (answer.ok && server.output().includes("bentoc: serving")) return;
    last = answer.text;
    await new Promise((r) => setTimeout(r, 200));
  }
  const out = server.output();
  throw new Error(`server not ready after ${timeoutMs} ms; last /readyz answer: ${last}\nserver output (first 3000 characters):\n${out.slice(0, 3000)}`);
}
