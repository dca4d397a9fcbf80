/**
 * The bento's npm side: its `package.json` (bentoc from the packed tarball, onnxruntime-node when runners
 * load models, the service's external imports, and the bentofile's `packages`) and a `package-lock.json`
 * written offline and deterministically from the project's own lock: the exact versions the author tested
 * with, every dev-only entry dropped. `npm ci --omit=dev` in the image installs exactly that tree.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { BentocPackageJson, PackedBentoc } from "./pack-bentoc.ts";

export class BentoPackagesError extends Error {
  override name = "BentoPackagesError";
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

export interface ProjectLock {
  file: string;
  packages: Record<string, LockEntry>;
}

/** The nearest package-lock.json at or above `dir` (the project's), or null. */
export function findProjectLock(dir: string): ProjectLock | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const file = join(d, "package-lock.json");
    if (existsSync(file)) {
      const lock = JSON.parse(readFileSync(file, "utf8")) as {
        lockfileVersion?: number;
        packages?: Record<string, LockEntry>;
      };
      if (!lock.packages || (lock.lockfileVersion ?? 0) < 2)
        throw new BentoPackagesError(`${file}: lockfileVersion 2 or 3 is needed (run npm install with npm 7 or later)`);
      return { file, packages: lock.packages };
    }
    if (dirname(d) === d) return null;
  }
}

/** The nearest package.json's declared dependency ranges at or above `dir`. */
export function projectDependencies(dir: string): Record<string, string> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const file = join(d, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      return { ...(pkg.devDependencies ?? {}), ...(pkg.dependencies ?? {}) };
    }
    if (dirname(d) === d) return {};
  }
}

/** Bare package names a bundle still imports (what esbuild left external), node builtins excluded. */
export function externalImports(bundle: string): string[] {
  const names = new Set<string>();
  const re = /(?:^|[;\n}])\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|\bimport\s+["']([^"']+)["']/g;
  for (const m of bundle.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? "";
    if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("node:") || spec === "") continue;
    const parts = spec.split("/");
    const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? spec);
    if (BUILTINS.has(name)) continue;
    names.add(name);
  }
  return [...names].sort();
}

const BUILTINS = new Set(
  "assert async_hooks buffer child_process cluster console constants crypto dgram diagnostics_channel dns domain events fs http http2 https inspector module net os path perf_hooks process punycode querystring readline repl stream string_decoder sys timers tls trace_events tty url util v8 vm wasi worker_threads zlib".split(
    " ",
  ),
);

export interface BentoPackages {
  packageJson: string;
  packageLock: string;
  /** The dependencies written to package.json, sorted. */
  dependencies: Record<string, string>;
}

function sortRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface BentoPackagesOptions {
  /** Bento name (the package name is `<name>-bento`). */
  name: string;
  /** The service version (package.json version). */
  version: string;
  bentoc: PackedBentoc;
  /** Name → range: the service's externals resolved from the project, and the bentofile's `packages`. */
  extra: Record<string, string>;
  /** Whether runners load ONNX models (adds onnxruntime-node). */
  needsOnnx: boolean;
  lock: ProjectLock | null;
}

/** package.json and package-lock.json of a bento. */
export function bentoPackages(options: BentoPackagesOptions): BentoPackages {
  const bentoc = options.bentoc.manifest;
  const deps: Record<string, string> = { ...options.extra };
  if (options.needsOnnx && deps["onnxruntime-node"] === undefined) deps["onnxruntime-node"] = bentoc.dependencies?.["onnxruntime-node"] ?? "*";
  delete deps["bentoc"];
  deps["bentoc"] = `file:./${options.bentoc.fileName}`;
  const dependencies = sortRecord(deps);
  const pkgName = `${options.name}-bento`;
  const packageJson = {
    name: pkgName,
    version: options.version,
    private: true,
    type: "module",
    description: `Run-time dependencies of the ${options.name} bento (generated by bentoc ${bentoc.version})`,
    dependencies,
  };
  if (!options.lock)
    throw new BentoPackagesError("no package-lock.json found above the service: run `npm install` in the project so the bento can pin exact versions");
  const packages: Record<string, LockEntry> = {
    "": { name: pkgName, version: options.version, dependencies },
    "node_modules/bentoc": sortEntry({
      version: bentoc.version,
      resolved: `file:${options.bentoc.fileName}`,
      integrity: options.bentoc.integrity,
      ...(bentoc["license"] ? { license: bentoc["license"] } : {}),
      ...(bentoc.dependencies ? { dependencies: bentoc.dependencies } : {}),
      ...(bentoc.optionalDependencies ? { optionalDependencies: bentoc.optionalDependencies } : {}),
      ...(bentoc["bin"] ? { bin: typeof bentoc["bin"] === "string" ? { bentoc: bentoc["bin"] } : bentoc["bin"] } : {}),
      ...(bentoc["engines"] ? { engines: bentoc["engines"] } : {}),
    }),
  };
  // Every non-dev entry of the project's tree (bentoc's own dependencies and the service's).
  for (const [path, entry] of Object.entries(options.lock.packages)) {
    if (path === "" || !path.startsWith("node_modules/") || entry.dev === true || entry.link === true) continue;
    if (path === "node_modules/bentoc" || path.startsWith("node_modules/bentoc/")) continue;
    const copy: LockEntry = { ...entry };
    if (copy.devOptional) {
      delete copy.devOptional;
      copy.optional = true;
    }
    packages[path] = copy;
  }
  for (const [name, range] of Object.entries(dependencies)) {
    if (name === "bentoc") continue;
    const entry = packages[`node_modules/${name}`];
    if (!entry) {
      throw new BentoPackagesError(
        `package ${name}@${range} is not installed in the project (${options.lock.file}); add it to the project's dependencies and run npm install`,
      );
    }
  }
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)));
  const lock = { name: pkgName, version: options.version, lockfileVersion: 3, requires: true, packages: sorted };
  return {
    packageJson: `${JSON.stringify(packageJson, null, 2)}\n`,
    packageLock: `${JSON.stringify(lock, null, 2)}\n`,
    dependencies,
  };
}

function sortEntry(e: LockEntry): LockEntry {
  return e;
}

/** The service's run-time imports, each with the range the project declares (or the locked version). */
export function resolveExternals(names: readonly string[], projectDir: string, lock: ProjectLock | null): Record<string, string> {
  const declared = projectDependencies(projectDir);
  const out: Record<string, string> = {};
  for (const name of names) {
    if (name === "bentoc") continue;
    const range = declared[name] ?? lock?.packages[`node_modules/${name}`]?.version;
    if (range === undefined) throw new BentoPackagesError(`the service imports ${name} at run time but the project does not depend on it; npm install ${name}`);
    out[name] = range;
  }
  return out;
}

export type { BentocPackageJson };
