/**
 * External tools the emitter tests run (`kubectl`, `promtool`). Locally a missing tool skips those
 * tests; with `CI=true` it fails them, so CI cannot go green without really running the tool.
 */
import { execFileSync } from "node:child_process";

export interface Tool {
  name: string;
  path: string | null;
  /** True when tests needing the tool should be skipped (missing, and not on CI). */
  skip: boolean;
}

function which(name: string): string | null {
  try {
    return execFileSync("which", [name], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

export function findTool(name: string): Tool {
  const path = which(name);
  const ci = process.env["CI"] === "true" || process.env["CI"] === "1";
  return { name, path, skip: path === null && !ci };
}

/** The tool's path, or a failure naming how to install it (reached only on CI, where nothing skips). */
export function toolPath(tool: Tool): string {
  if (tool.path === null)
    throw new Error(
      `${tool.name} is not installed but CI=true requires it (${tool.name === "kubectl" ? "bash scripts/install-kubectl.sh" : `Debian: apt-get install ${tool.name === "promtool" ? "prometheus" : tool.name}`})`,
    );
  return tool.path;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(path: string, args: string[]): RunResult {
  try {
    const stdout = execFileSync(path, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { status: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}
