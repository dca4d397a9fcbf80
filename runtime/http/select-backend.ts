/**
 * Which HTTP backend serves this process. uWebSockets.js is the fast path, but its package (an optional
 * dependency, `@trufflesuite/uws-js-unofficial` 20.30 under the alias `uWebSockets.js`) carries native
 * builds only for some Node ABIs (Node 16, 18, 20 on glibc); elsewhere the package itself would fall back
 * to a slow JS imitation that answers every request with 500. So the probe loads the native binary for
 * the running Node directly and never the package's fallback; when no binary loads, node:http serves.
 * See docs/http.md for why this package and not a newer build (those need glibc ≥ 2.38).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export type HttpBackendName = "uws" | "node";
export type HttpBackendSetting = HttpBackendName | "auto";

export const HTTP_BACKEND_SETTINGS: readonly HttpBackendSetting[] = ["auto", "uws", "node"];

/** The uWS module as the backend uses it (the types of the package's `docs/index.d.ts`). */
export type UwsModule = typeof import("uWebSockets.js");

export interface UwsProbe {
  /** The native module, when a build for this Node loaded. */
  module: UwsModule | undefined;
  /** One line: what was loaded, or why nothing was. */
  detail: string;
}

export interface BackendChoice {
  name: HttpBackendName;
  /** Why this backend: the setting and the probe, in one line for the start-up log and `bentoc doctor`. */
  reason: string;
}

const UWS_PACKAGE = "uWebSockets.js";
let probed: UwsProbe | undefined;

/** Loads the native uWS build for this platform, architecture and Node ABI, once per process. */
export function probeUws(): UwsProbe {
  if (probed) return probed;
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  let version = "?";
  try {
    const pkgJson = require.resolve(`${UWS_PACKAGE}/package.json`);
    pkgDir = dirname(pkgJson);
    version = (require(pkgJson) as { version?: string }).version ?? "?";
  } catch {
    probed = { module: undefined, detail: `${UWS_PACKAGE} is not installed (it is an optional dependency)` };
    return probed;
  }
  const abi = process.versions.modules;
  const file = `uws_${process.platform}_${process.arch}_${abi}.node`;
  try {
    const module = require(join(pkgDir, "binaries", file)) as UwsModule;
    if (typeof module.App !== "function") throw new Error("the binary has no App()");
    probed = { module, detail: `native ${UWS_PACKAGE} ${version} (${file}) loaded` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === "MODULE_NOT_FOUND" ? `it has no build for Node ${process.version} (ABI ${abi}) on ${process.platform}-${process.arch}` : firstLine(e.message);
    probed = { module: undefined, detail: `${UWS_PACKAGE} ${version} cannot serve here: ${why}` };
  }
  return probed;
}

/** The backend for `setting`: `auto` takes uWS when its native build loads, else node:http. */
export function chooseBackend(setting: HttpBackendSetting): BackendChoice {
  if (setting === "node") return { name: "node", reason: "node:http (forced by server.http / --http)" };
  const uws = probeUws();
  if (setting === "uws") {
    if (!uws.module) throw new Error(`--http uws was asked for, but ${uws.detail}; use --http node or auto`);
    return { name: "uws", reason: `uWebSockets.js (forced): ${uws.detail}` };
  }
  return uws.module ? { name: "uws", reason: `uWebSockets.js: ${uws.detail}` } : { name: "node", reason: `node:http: ${uws.detail}` };
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? text;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
