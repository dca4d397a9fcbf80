/**
 * What `bentoc doctor` reports: the facts of this installation and machine that decide whether and how a
 * service runs here. bentoc's version and place, Node's version and native ABI, the platform and its C
 * library, the HTTP backend `auto` picks and why, onnxruntime-node's version and execution providers, the
 * model store, and the container tools `bentoc containerize` can use. Collecting never throws: a fact that
 * cannot be read is reported with the reason.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BACKENDS, which } from "../../bento/containerize.ts";
import { bentocRoot, bentocVersion, RUNNING_FROM_SOURCES } from "../../contract/package-root.ts";
import { chooseBackend } from "../http/select-backend.ts";
import { defaultHome } from "../models/model-store.ts";

export interface ExecutionProvider {
  name: string;
  /** `bundled` ships in the package; `installed` was downloaded by its install script; `missing` neither. */
  status: "bundled" | "installed" | "missing";
}

export interface ContainerTool {
  name: string;
  path: string | null;
  version: string | null;
}

export interface EnvironmentFacts {
  bentoc: { version: string; root: string; from: "dist" | "sources" };
  node: { version: string; abi: string; v8: string; napi: string };
  platform: { os: string; arch: string; libc: string };
  http: { backend: "uws" | "node" | null; reason: string };
  onnxruntime: { version: string | null; providers: ExecutionProvider[]; error?: string };
  modelStore: { path: string; exists: boolean; models: number | null };
  containers: { tools: ContainerTool[]; selected: string | null };
}

/** `glibc 2.36`, `musl` (no glibc on Linux), or the OS name elsewhere. */
export function libcOf(report: { header?: { glibcVersionRuntime?: string } } | undefined, os: string = process.platform): string {
  if (os !== "linux") return "system";
  const glibc = report?.header?.glibcVersionRuntime;
  return glibc ? `glibc ${glibc}` : "musl (no glibc found)";
}

function runtimeReport(): { header?: { glibcVersionRuntime?: string } } | undefined {
  try {
    return process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  } catch {
    return undefined;
  }
}

function httpFact(): EnvironmentFacts["http"] {
  try {
    const choice = chooseBackend("auto");
    return { backend: choice.name, reason: choice.reason };
  } catch (err) {
    return { backend: null, reason: (err as Error).message };
  }
}

/** Provider libraries that are not bundled are shared objects beside the binding, once installed. */
function providerStatus(bindingDir: string | undefined, name: string, bundled: boolean): ExecutionProvider["status"] {
  if (bundled) return "bundled";
  if (!bindingDir || !existsSync(bindingDir)) return "missing";
  const prefix = `libonnxruntime_providers_${name}.`;
  const dll = `onnxruntime_providers_${name}.dll`;
  return readdirSync(bindingDir).some((f) => f.startsWith(prefix) || f === dll) ? "installed" : "missing";
}

async function onnxruntimeFact(): Promise<EnvironmentFacts["onnxruntime"]> {
  const require = createRequire(import.meta.url);
  let version: string | null = null;
  let pkgDir: string | undefined;
  try {
    const pkgJson = require.resolve("onnxruntime-node/package.json");
    pkgDir = dirname(pkgJson);
    version = (require(pkgJson) as { version?: string }).version ?? null;
  } catch {
    return { version: null, providers: [], error: "onnxruntime-node is not installed" };
  }
  try {
    const ort = (await import("onnxruntime-node")) as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[]; default?: unknown };
    const list = ort.listSupportedBackends ?? (ort.default as typeof ort | undefined)?.listSupportedBackends;
    if (typeof list !== "function") return { version, providers: [], error: "this onnxruntime-node has no listSupportedBackends()" };
    const bindingDir = pkgDir && join(pkgDir, "bin", "napi-v6", process.platform, process.arch);
    return { version, providers: list().map((b) => ({ name: b.name, status: providerStatus(bindingDir, b.name, b.bundled) })) };
  } catch (err) {
    return { version, providers: [], error: `onnxruntime-node does not load: ${(err as Error).message.split("\n")[0]}` };
  }
}

async function modelStoreFact(): Promise<EnvironmentFacts["modelStore"]> {
  const path = defaultHome();
  const exists = existsSync(path);
  if (!exists) return { path, exists, models: null };
  try {
    const { ModelStore } = await import("../models/model-store.ts");
    return { path, exists, models: (await new ModelStore(path).list()).length };
  } catch {
    return { path, exists, models: null };
  }
}

function toolVersion(path: string): string | null {
  const r = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 5000 });
  const line = `${r.stdout ?? ""}`.split("\n").find((l) => l.trim() !== "");
  return r.status === 0 && line ? line.trim() : null;
}

function containersFact(): EnvironmentFacts["containers"] {
  const tools = BACKENDS.map((name) => {
    const path = which(name);
    return { name, path, version: path ? toolVersion(path) : null };
  });
  return { tools, selected: tools.find((t) => t.path !== null)?.name ?? null };
}

export async function collectEnvironmentFacts(): Promise<EnvironmentFacts> {
  return {
    bentoc: { version: bentocVersion(), root: bentocRoot(), from: RUNNING_FROM_SOURCES ? "sources" : "dist" },
    node: { version: process.version, abi: process.versions.modules, v8: process.versions.v8, napi: process.versions.napi ?? "?" },
    platform: { os: process.platform, arch: process.arch, libc: libcOf(runtimeReport()) },
    http: httpFact(),
    onnxruntime: await onnxruntimeFact(),
    modelStore: await modelStoreFact(),
    containers: containersFact(),
  };
}
