/**
 * `bentoc build`: bentofile → bento in the store. Steps:
 *   1. compile the service with its bundle (through the injected compiler: the runtime never imports it),
 *   2. pin every model tag to the exact version in the model store and copy those models into the bento's
 *      `models/` (a model store root, BENTOC_HOME=/bento/models in the image),
 *   3. re-emit the generated files (Containerfile with the bentofile's docker options, k8s, client, …)
 *      from the pinned manifest, copy the `include`d data files, pack bentoc and write package.json + lock,
 *   4. hash every file: the version is the content hash; write bento.yaml; rename into the store.
 * Deterministic: unchanged sources give the same version and the same bytes.
 */

import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { sha256File } from "../runtime/models/file-hash.ts";
import { RECORD_FILE } from "../runtime/models/model-record.ts";
import { ModelStore } from "../runtime/models/model-store.ts";
import type { Manifest } from "../sdk/manifest.ts";
import { collectIncludedFiles } from "./bento-files.ts";
import { bentoPackages, externalImports, findProjectLock, resolveExternals } from "./bento-packages.ts";
import { BENTO_RECORD, type BentoFileEntry, type BentoRecord, contentVersion, serializeRecord, VERSION_PLACEHOLDER } from "./bento-record.ts";
import { BentoStore, listFiles, type StoredBento } from "./bento-store.ts";
import type { Bentofile } from "./bentofile.ts";
import { packBentoc } from "./pack-bentoc.ts";

/** The Containerfile emitter's options this step passes (structurally the compiler's ContainerfileOptions). */
export interface BentoContainerfileOptions {
  baseImage?: string;
  nodeVersion?: string;
  systemPackages?: string[];
  env?: Record<string, string>;
  setupScript?: string;
  localPackages?: string[];
  files?: string[];
}

/** What `build` needs from the compiler; the CLI wires `compile()` and `emitFromManifest()`. */
export interface BentoCompiler {
  /**
   * Compiles with the bundle into `outDir`, checking the runners' models against the store in `home`
   * (a tag missing there is an error); `manifest` null on errors, `diagnostics` already formatted.
   */
  compile(entry: string, outDir: string, home: string): Promise<{ manifest: Manifest | null; diagnostics: string; files: string[] }>;
  /** Every generated file (relative path → content) from a manifest; `image` is the Kubernetes workloads' image. */
  emit(manifest: Manifest, containerfile: BentoContainerfileOptions, image?: string): Record<string, string>;
}

export class BentoBuildError extends Error {
  override name = "BentoBuildError";
}

export interface BuildOptions {
  bentofile: Bentofile;
  compiler: BentoCompiler;
  /** `$BENTOC_HOME`: the model store to resolve from and the bento store to write to. */
  home: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface BuildResult {
  bento: StoredBento;
  /** False when this exact content was in the store already. */
  created: boolean;
}

/** Outputs of `compile` that are not copied: the emitted ones come again from the pinned manifest. */
const BUNDLE_SUFFIXES = ["", ".map"];

export async function buildBento(options: BuildOptions): Promise<BuildResult> {
  const { bentofile, compiler } = options;
  const log = options.log ?? (() => undefined);
  const store = new BentoStore(options.home);
  const models = new ModelStore(options.home);
  const work = await store.tempDir("bento-build");
  try {
    const compiled = join(work, "compiled");
    const ctx = join(work, "bento");
    await mkdir(ctx, { recursive: true });

    // 1. compile
    const result = await compiler.compile(bentofile.service, compiled, options.home);
    if (!result.manifest) throw new BentoBuildError(`${result.diagnostics}\ncompilation failed: no bento was built`);
    const manifest = result.manifest;
    const name = bentofile.name ?? manifest.service.name;
    log(`compiled ${manifest.service.name} (${manifest.service.apis.length} APIs, ${manifest.runners.length} runners)`);

    // 2. models: pin and copy
    const wanted = bentofile.models ?? manifest.models;
    const pins = new Map<string, string>();
    for (const tag of wanted) {
      const m = await models.get(tag);
      pins.set(tag, m.tag);
      const dest = join(ctx, "models", "models", m.name, m.version);
      for (const f of [...m.files.map((x) => x.path), RECORD_FILE]) {
        const to = join(dest, ...f.split("/"));
        await mkdir(dirname(to), { recursive: true });
        await copyFile(join(m.path, ...f.split("/")), to);
      }
      const copied = await Promise.all(m.files.map(async (f) => ({ f, sha: await sha256File(join(dest, ...f.path.split("/"))) })));
      const bad = copied.find(({ f, sha }) => sha !== f.sha256);
      if (bad) throw new BentoBuildError(`model ${m.tag} is corrupted in the store: ${bad.f.path} does not match its sha256`);
      log(`model ${tag} → ${m.tag}`);
    }
    const missing = manifest.models.filter((t) => !pins.has(t));
    if (missing.length > 0) {
      throw new BentoBuildError(
        `${relative(process.cwd(), bentofile.file)}: models lists ${wanted.join(", ") || "nothing"}, but the service's runners need ${missing.join(", ")}`,
      );
    }
    const pinned: Manifest = {
      ...manifest,
      runners: manifest.runners.map((r) => ({ ...r, model: r.model === null ? null : (pins.get(r.model) ?? r.model) })),
      models: [...new Set([...pins.values()])].sort(),
      service: {
        ...manifest.service,
        labels: sortRecord({ ...manifest.service.labels, ...bentofile.labels }),
      },
    };

    // 3. files: bundle, data files, packages, generated files
    const bundle = manifest.entry.bundle;
    for (const suffix of BUNDLE_SUFFIXES) {
      const f = bundle + suffix;
      if (result.files.includes(f)) await copyFile(join(compiled, f), join(ctx, f));
    }
    const data = await collectIncludedFiles(bentofile.dir, bentofile.include, bentofile.exclude);
    const packed = await packBentoc(ctx);
    const lock = findProjectLock(bentofile.dir);
    const externals = externalImports(await readFile(join(compiled, bundle), "utf8"));
    const extra = { ...resolveExternals(externals, bentofile.dir, lock), ...bentofile.packages };
    const pkgs = bentoPackages({ name, version: manifest.service.version, bentoc: packed, extra, needsOnnx: pinned.models.length > 0, lock });
    const containerfile: BentoContainerfileOptions = {
      ...(bentofile.docker.baseImage !== undefined ? { baseImage: bentofile.docker.baseImage } : {}),
      ...(bentofile.docker.nodeVersion !== undefined ? { nodeVersion: bentofile.docker.nodeVersion } : {}),
      systemPackages: bentofile.docker.systemPackages,
      env: bentofile.docker.env,
      ...(bentofile.docker.setupScript !== undefined ? { setupScript: bentofile.docker.setupScript } : {}),
      localPackages: [packed.fileName],
      files: data.filter((f) => f !== bentofile.docker.setupScript),
    };
    // k8s/ names the image, which is named after the version: it is written last (step 4), sealed into the
    // version through a placeholder (bento-record.ts).
    const generated = Object.fromEntries(Object.entries(compiler.emit(pinned, containerfile)).filter(([rel]) => !rel.startsWith(K8S_DIR)));
    const owned = new Set([...Object.keys(generated), bundle, `${bundle}.map`, "package.json", "package-lock.json", packed.fileName, BENTO_RECORD]);
    const clash = data.find((f) => owned.has(f) || f.startsWith("models/"));
    if (clash)
      throw new BentoBuildError(
        `${relative(process.cwd(), bentofile.file)}: include matches ${clash}, which the bento generates itself; rename it or exclude it`,
      );
    const write = async (rel: string, content: string | Buffer) => {
      const to = join(ctx, ...rel.split("/"));
      await mkdir(dirname(to), { recursive: true });
      await writeFile(to, content);
    };
    for (const [rel, content] of Object.entries(generated)) await write(rel, content);
    await write("package.json", pkgs.packageJson);
    await write("package-lock.json", pkgs.packageLock);
    for (const f of data) await write(f, await readFile(join(bentofile.dir, ...f.split("/"))));
    if (bentofile.docker.setupScript !== undefined && !data.includes(bentofile.docker.setupScript)) {
      await write(bentofile.docker.setupScript, await readFile(join(bentofile.dir, ...bentofile.docker.setupScript.split("/"))));
    }
    if (data.length > 0) log(`included ${data.length} file${data.length === 1 ? "" : "s"}: ${data.slice(0, 10).join(", ")}${data.length > 10 ? ", …" : ""}`);

    // 4. hash, version, record, install
    const files: BentoFileEntry[] = [];
    for (const rel of await listFiles(ctx)) {
      const full = join(ctx, ...rel.split("/"));
      files.push({ path: rel, size: (await readFile(full)).length, sha256: await sha256File(full) });
    }
    // The workloads run the image `bentoc containerize` tags by default: <bento name>:<version>. They are
    // emitted with the version placeholder, sealed into the version so, then given the version.
    const k8s = Object.entries(compiler.emit(pinned, containerfile, `${name}:${VERSION_PLACEHOLDER}`)).filter(([rel]) => rel.startsWith(K8S_DIR));
    const sealed = new Map(k8s.map(([rel, content]) => [rel, createHash("sha256").update(content).digest("hex")]));
    const version = contentVersion(name, [...files, ...k8s.map(([rel]) => ({ path: rel, size: 0, sha256: "" }))], sealed);
    for (const [rel, placeholderText] of k8s) {
      const content = placeholderText.replaceAll(VERSION_PLACEHOLDER, version);
      await write(rel, content);
      files.push({ path: rel, size: Buffer.byteLength(content), sha256: createHash("sha256").update(content).digest("hex") });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const description = bentofile.description?.trim() ?? manifest.service.description;
    const record: BentoRecord = {
      schemaVersion: 1,
      tag: `${name}:${version}`,
      name,
      version,
      ...(description !== undefined ? { description } : {}),
      labels: pinned.service.labels,
      service: { name: manifest.service.name, version: manifest.service.version, bundle },
      models: pinned.models,
      packages: pkgs.dependencies,
      creation: { bentoc: packed.manifest.version, node: process.versions.node.split(".")[0] ?? "" },
      files,
    };
    await writeFile(join(ctx, BENTO_RECORD), serializeRecord(record));
    return await store.install(ctx, record);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const K8S_DIR = "k8s/";

function sortRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
