/**
 * The local model store: `$BENTOC_HOME/models/<name>/<version>/` holds a model's files and `model.json`.
 *
 * Writes are atomic: files are copied into `$BENTOC_HOME/.tmp/` (same file system), fsynced, then the
 * directory is renamed into place, so a crash never leaves a partial model visible. Saves, deletes and
 * imports take a lock on the store (proper-lockfile) for the moment they allocate a version and rename,
 * so concurrent writers (threads or processes) are safe and versions of a name stay strictly ordered.
 */
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, posix, resolve } from "node:path";
import { sha256File, verifyFiles } from "./file-hash.ts";
import { fsyncDir, fsyncPath, uniqueName } from "./fs-atomic.ts";
import { exportArchive, importArchive } from "./model-archive.ts";
import { type ModelFileEntry, type ModelRecord, type ModelSignature, RECORD_FILE, recordProblem, type StoredModel } from "./model-record.ts";
import { ModelStoreError } from "./model-store-error.ts";
import { newVersion, parseTag, validateName, versionTime } from "./model-tag.ts";
import { readOnnxIo } from "./onnx-io.ts";

/** `$BENTOC_HOME`, or `~/.bentoc`. */
export function defaultHome(): string {
  const env = process.env["BENTOC_HOME"];
  return env && env.length > 0 ? resolve(env) : join(homedir(), ".bentoc");
}

/** A file to store: a path on disk (kept under its base name), or an explicit path in the model directory. */
export type SaveEntry = string | { path: string; from: string } | { path: string; data: Uint8Array };
/** A directory (stored with its layout), an .onnx file, or a list of entries. */
export type SaveSource = string | readonly SaveEntry[];

export interface SaveOptions {
  name: string;
  labels?: Record<string, string>;
  metadata?: Record<string, unknown>;
  /** Per method; missing fields default to `batchable: false`, `batchDim: 0`. Default `{ run: {...} }`. */
  signatures?: Record<string, Partial<ModelSignature>>;
  /** Which file is the ONNX model; default `model.onnx`, else the only `.onnx` file. */
  modelFile?: string;
}

export interface ListFilter {
  name?: string;
  /** Every given label must match. */
  labels?: Record<string, string>;
}

const TMP_DIR = ".tmp";
const STALE_TMP_MS = 24 * 3600 * 1000;
/** A temp directory of a process that no longer runs (its pid is in the name) is removed after this long. */
const ORPHAN_TMP_MS = 60 * 1000;
/** Homes whose leftovers this process already cleaned (once per process is enough). */
const cleaned = new Set<string>();

export class ModelStore {
  readonly home: string;
  readonly modelsDir: string;

  constructor(home: string = defaultHome()) {
    this.home = resolve(home);
    this.modelsDir = join(this.home, "models");
  }

  /** Saves a new version of `options.name`; resolves to its record (it is `name:latest` from then on). */
  async save(source: SaveSource, options: SaveOptions): Promise<StoredModel> {
    validateName(options.name);
    const labels = checkLabels(options.labels ?? {});
    const metadata = checkMetadata(options.metadata ?? {});
    const signatures = normaliseSignatures(options.signatures ?? { run: {} });
    const entries = await collectEntries(source);
    const tmp = await this.tempDir("save");
    try {
      const files: ModelFileEntry[] = [];
      for (const e of entries) {
        const dest = join(tmp, ...e.path.split("/"));
        await mkdir(dirname(dest), { recursive: true });
        if ("data" in e) await writeFile(dest, e.data);
        else await copyFile(e.from, dest);
        await fsyncPath(dest);
        files.push({ path: e.path, size: (await stat(dest)).size, sha256: await sha256File(dest) });
      }
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const modelFile = pickModelFile(files, options.modelFile);
      const io = await readOnnxIo(join(tmp, ...modelFile.split("/")));
      const draft: Omit<ModelRecord, "tag" | "version" | "creationTime"> = {
        schemaVersion: 1,
        name: options.name,
        modelFile,
        labels,
        metadata,
        signatures,
        inputs: io.inputs,
        outputs: io.outputs,
        files,
        size: files.reduce((n, f) => n + f.size, 0),
      };
      return await this.withLock(async () => {
        const existing = (await this.list({ name: options.name })).map((m) => m.version);
        const newest =
          existing
            .filter((v) => versionTime(v) !== null)
            .sort()
            .at(-1) ?? null;
        const version = newVersion(newest);
        const record: ModelRecord = {
          schemaVersion: 1,
          tag: `${options.name}:${version}`,
          name: draft.name,
          version,
          modelFile: draft.modelFile,
          labels: draft.labels,
          metadata: draft.metadata,
          signatures: draft.signatures,
          inputs: draft.inputs,
          outputs: draft.outputs,
          files: draft.files,
          size: draft.size,
          creationTime: new Date(versionTime(version) ?? Date.now()).toISOString(),
        };
        return this.install(tmp, record);
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** All models (optionally filtered), by name, newest version first. */
  async list(filter: ListFilter = {}): Promise<StoredModel[]> {
    await this.cleanOnce();
    const names = filter.name !== undefined ? [filter.name] : await listDirs(this.modelsDir);
    const out: StoredModel[] = [];
    for (const name of names) {
      for (const version of await this.versionsOf(name)) {
        const record = await this.readRecord(name, version).catch(() => null);
        if (!record) continue;
        if (filter.labels && !Object.entries(filter.labels).every(([k, v]) => record.labels[k] === v)) continue;
        out.push(record);
      }
    }
    return out.sort((a, b) => (a.name !== b.name ? (a.name < b.name ? -1 : 1) : newestFirst(a, b)));
  }

  /** Resolves `name`, `name:latest` or `name:version`. */
  async get(tag: string): Promise<StoredModel> {
    await this.cleanOnce();
    const { name, version } = parseTag(tag);
    if (version !== null) {
      const record = await this.readRecord(name, version).catch((err: unknown) => {
        if (err instanceof ModelStoreError && err.code === "CORRUPT") throw err;
        return null;
      });
      if (record) return record;
    } else {
      const [newest] = await this.list({ name });
      if (newest) return newest;
    }
    throw await this.notFound(tag, name);
  }

  /** Deletes one version (`name` / `name:latest` deletes the newest); resolves to the deleted record. */
  async delete(tag: string): Promise<StoredModel> {
    return this.withLock(async () => {
      const record = await this.get(tag);
      const trash = join(await this.tempDir("delete"), "model");
      await rename(record.path, trash);
      await fsyncDir(dirname(record.path));
      await rmdir(dirname(record.path)).catch(() => undefined); // only succeeds when no version is left
      await rm(dirname(trash), { recursive: true, force: true });
      return record;
    });
  }

  /** Writes the model and its record as one .tar.gz (files are verified first). */
  async exportModel(tag: string, file: string): Promise<StoredModel> {
    const record = await this.get(tag);
    await exportArchive(record, file);
    return record;
  }

  /** Adds the model from an archive made by `exportModel`, keeping its tag; rejects unsafe or altered archives. */
  async importModel(file: string): Promise<StoredModel> {
    const tmp = await this.tempDir("import");
    try {
      const record = await importArchive(file, tmp);
      return await this.installPrepared(tmp, record);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Adds a model whose files were prepared in `dir` (a directory from `tempDir`, holding exactly the
   * record's files, already checked against it: an import or a pull), keeping its tag. The record's shape
   * and the files' presence and sizes are checked here; then, under the lock, the directory is renamed into
   * place. A tag that exists is an error (`EXISTS`).
   */
  async installPrepared(dir: string, record: ModelRecord): Promise<StoredModel> {
    const problem = recordProblem(record);
    if (problem) throw new ModelStoreError("INVALID_INPUT", `invalid model record: ${problem}`);
    parseTag(record.tag);
    for (const f of record.files) checkEntryPath(f.path);
    await verifyFiles(record.tag, dir, record.files, { hash: false });
    return this.withLock(async () => {
      if ((await this.versionsOf(record.name)).includes(record.version)) {
        throw new ModelStoreError("EXISTS", `model ${record.tag} already exists in ${this.modelsDir}; delete it first to replace it`);
      }
      return this.install(dir, record);
    });
  }

  /** Version directory names of one model name (unsorted), [] when none. */
  private async versionsOf(name: string): Promise<string[]> {
    validateName(name);
    return (await listDirs(join(this.modelsDir, name))).filter((v) => !v.startsWith("."));
  }

  private async readRecord(name: string, version: string): Promise<StoredModel> {
    const dir = join(this.modelsDir, name, version);
    const text = await readFile(join(dir, RECORD_FILE), "utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ModelStoreError("CORRUPT", `model ${name}:${version} has an unreadable ${RECORD_FILE} (${dir})`, { cause: err });
    }
    const problem = recordProblem(parsed);
    if (problem) throw new ModelStoreError("CORRUPT", `model ${name}:${version} has an invalid ${RECORD_FILE}: ${problem} (${dir})`);
    return { ...(parsed as ModelRecord), path: dir };
  }

  private async notFound(tag: string, name: string): Promise<ModelStoreError> {
    const all = await this.list();
    const same = all.filter((m) => m.name === name).map((m) => m.tag);
    const known = same.length > 0 ? same : [...new Set(all.map((m) => `${m.name}:latest`))];
    const shown = known.slice(0, 20).join(", ") + (known.length > 20 ? `, … and ${known.length - 20} more` : "");
    const hint =
      known.length === 0
        ? `the store is empty (${this.home}); save one with \`bentoc models save\` (in the bentoc repository, \`npm run models\` prepares the samples' models)`
        : `${same.length > 0 ? `versions of ${name}` : "known models"}: ${shown}`;
    return new ModelStoreError("NOT_FOUND", `model ${tag} not found in ${this.home}; ${hint}`);
  }

  /** A fresh directory under `$BENTOC_HOME/.tmp` (same file system as the models, so rename is atomic). @internal */
  async tempDir(prefix: string): Promise<string> {
    const dir = join(this.home, TMP_DIR, uniqueName(prefix));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Writes `model.json` into the prepared directory and renames it into place. Caller holds the lock. */
  private async install(tmp: string, record: ModelRecord): Promise<StoredModel> {
    const recordPath = join(tmp, RECORD_FILE);
    await writeFile(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    await fsyncPath(recordPath);
    await fsyncDir(tmp);
    const nameDir = join(this.modelsDir, record.name);
    const target = join(nameDir, record.version);
    await mkdir(nameDir, { recursive: true });
    await rename(tmp, target);
    await fsyncDir(nameDir);
    await fsyncDir(this.modelsDir);
    return { ...record, path: target };
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(this.modelsDir, { recursive: true });
    let release: () => Promise<void>;
    try {
      // proper-lockfile loads on first use: serving only reads the store and never locks it.
      const { default: lockfile } = await import("proper-lockfile");
      release = await lockfile.lock(this.modelsDir, {
        lockfilePath: join(this.home, "models.lock"),
        stale: 30_000,
        retries: { retries: 300, factor: 1.3, minTimeout: 5, maxTimeout: 200, randomize: true },
      });
    } catch (err) {
      throw new ModelStoreError("LOCKED", `could not lock the model store ${this.home}: ${(err as Error).message}`, { cause: err });
    }
    try {
      await this.removeStaleTemp();
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** The first use of a store in a process removes what crashed or killed writers left behind. */
  private async cleanOnce(): Promise<void> {
    if (cleaned.has(this.home)) return;
    cleaned.add(this.home);
    await this.removeStaleTemp().catch(() => undefined);
  }

  /**
   * Temp directories left behind by crashed or killed writers: those of a process that no longer runs
   * (the pid is part of the name, `<prefix>-<pid>-…`) after a minute, any after a day (a home shared by
   * several hosts, where a pid says nothing).
   */
  private async removeStaleTemp(): Promise<void> {
    const root = join(this.home, TMP_DIR);
    for (const entry of await listDirs(root)) {
      const st = await stat(join(root, entry)).catch(() => null);
      if (!st) continue;
      const age = Date.now() - st.mtimeMs;
      if (age > STALE_TMP_MS || (age > ORPHAN_TMP_MS && !processRuns(ownerPid(entry)))) await rm(join(root, entry), { recursive: true, force: true });
    }
  }
}

/** The pid in a temp directory's name (`uniqueName`), or undefined. */
function ownerPid(name: string): number | undefined {
  const m = /-(\d+)-[0-9a-z]+-[0-9a-f]{8}$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Whether a process with this pid runs on this host (undefined: unknown, so assumed running). */
function processRuns(pid: number | undefined): boolean {
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function newestFirst(a: ModelRecord, b: ModelRecord): number {
  if (a.creationTime !== b.creationTime) return a.creationTime < b.creationTime ? 1 : -1;
  return a.version < b.version ? 1 : a.version > b.version ? -1 : 0;
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

type ResolvedEntry = { path: string; from: string } | { path: string; data: Uint8Array };

/** Validates a path inside the model directory: relative, `/`-separated, no `..`, not the record file. */
export function checkEntryPath(path: string): string {
  const bad = (why: string) => new ModelStoreError("INVALID_INPUT", `invalid file path ${JSON.stringify(path)} in model: ${why}`);
  if (path.length === 0) throw bad("empty");
  if (path.includes("\\") || path.includes("\0")) throw bad("backslashes and NUL are not allowed");
  if (isAbsolute(path) || path.startsWith("/")) throw bad("must be relative");
  const norm = posix.normalize(path);
  if (norm !== path || path.split("/").some((p) => p === ".." || p === "." || p === "")) throw bad("must be a normalised relative path without '..'");
  if (path === RECORD_FILE) throw bad(`${RECORD_FILE} is reserved for the record`);
  return path;
}

async function collectEntries(source: SaveSource): Promise<ResolvedEntry[]> {
  let entries: ResolvedEntry[];
  if (typeof source === "string") {
    const st = await lstat(source).catch(() => null);
    if (!st) throw new ModelStoreError("INVALID_INPUT", `${source} does not exist`);
    if (st.isDirectory()) entries = await walk(resolve(source), "");
    else if (st.isFile()) entries = [{ path: basename(source), from: source }];
    else throw new ModelStoreError("INVALID_INPUT", `${source} is neither a file nor a directory`);
  } else {
    entries = [];
    for (const e of source) {
      const entry = typeof e === "string" ? { path: basename(e), from: e } : e;
      if ("from" in entry) {
        const st = await stat(entry.from).catch(() => null);
        if (!st?.isFile()) throw new ModelStoreError("INVALID_INPUT", `${entry.from} is not a regular file`);
      }
      entries.push(entry);
    }
  }
  if (entries.length === 0) throw new ModelStoreError("INVALID_INPUT", "no files to save");
  const seen = new Set<string>();
  for (const e of entries) {
    checkEntryPath(e.path);
    if (seen.has(e.path)) throw new ModelStoreError("INVALID_INPUT", `file ${e.path} is given twice`);
    seen.add(e.path);
  }
  return entries;
}

async function walk(root: string, prefix: string): Promise<ResolvedEntry[]> {
  const out: ResolvedEntry[] = [];
  for (const d of await readdir(join(root, ...prefix.split("/").filter(Boolean)), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    const full = join(root, ...rel.split("/"));
    if (d.isSymbolicLink()) throw new ModelStoreError("INVALID_INPUT", `${full} is a symbolic link; the model store holds regular files only`);
    if (d.isDirectory()) out.push(...(await walk(root, rel)));
    else if (d.isFile()) out.push({ path: rel, from: full });
    else throw new ModelStoreError("INVALID_INPUT", `${full} is not a regular file`);
  }
  return out;
}

function pickModelFile(files: readonly ModelFileEntry[], wanted: string | undefined): string {
  const paths = files.map((f) => f.path);
  if (wanted !== undefined) {
    if (!paths.includes(wanted)) throw new ModelStoreError("INVALID_INPUT", `model file ${wanted} is not among the saved files (${paths.join(", ")})`);
    return wanted;
  }
  if (paths.includes("model.onnx")) return "model.onnx";
  const onnx = paths.filter((p) => p.endsWith(".onnx"));
  if (onnx.length === 1 && onnx[0]) return onnx[0];
  throw new ModelStoreError(
    "INVALID_INPUT",
    onnx.length === 0
      ? `no .onnx file among the saved files (${paths.join(", ")})`
      : `several .onnx files (${onnx.join(", ")}): name one model.onnx or pass modelFile`,
  );
}

function checkLabels(labels: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(k)) throw new ModelStoreError("INVALID_INPUT", `invalid label key ${JSON.stringify(k)}`);
    if (typeof v !== "string") throw new ModelStoreError("INVALID_INPUT", `label ${k} must be a string`);
  }
  return sortKeys(labels);
}

function checkMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  let text: string | undefined;
  try {
    text = JSON.stringify(metadata);
  } catch (err) {
    throw new ModelStoreError("INVALID_INPUT", `metadata must be JSON-serialisable: ${(err as Error).message}`);
  }
  if (text === undefined) throw new ModelStoreError("INVALID_INPUT", "metadata must be a JSON object");
  return JSON.parse(text) as Record<string, unknown>;
}

function normaliseSignatures(signatures: Record<string, Partial<ModelSignature>>): Record<string, ModelSignature> {
  const out: Record<string, ModelSignature> = {};
  for (const [method, s] of Object.entries(signatures).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(method)) throw new ModelStoreError("INVALID_INPUT", `invalid signature method name ${JSON.stringify(method)}`);
    const batchDim = s.batchDim ?? 0;
    if (!Number.isInteger(batchDim) || batchDim < 0) throw new ModelStoreError("INVALID_INPUT", `signature ${method}: batchDim must be a non-negative integer`);
    out[method] = { batchable: s.batchable ?? false, batchDim };
  }
  return out;
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : 1)));
}
