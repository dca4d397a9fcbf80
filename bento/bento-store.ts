/**
 * The bento store: `$BENTOC_HOME/bentos/<name>/<version>/`, each a complete build context (see
 * docs/bentos.md). Installs are atomic (a directory prepared under `$BENTOC_HOME/.tmp` is renamed into
 * place under a lock); `name` and `name:latest` resolve to the most recently built or imported version.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, stat, utimes } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { sha256File } from "../runtime/models/file-hash.ts";
import { fsyncDir } from "../runtime/models/fs-atomic.ts";
import { ModelStore } from "../runtime/models/model-store.ts";
import { parseTag } from "../runtime/models/model-tag.ts";
import { BENTO_RECORD, type BentoRecord, contentVersion, namesVersion, parseRecord, sealedSha256 } from "./bento-record.ts";
import { withStoreLock } from "./store-lock.ts";

export interface StoredBento extends BentoRecord {
  /** Absolute directory of the bento. */
  path: string;
  /** When it was built or imported (the directory's mtime), ISO 8601. */
  created: string;
  /** Total bytes of its files. */
  size: number;
}

export class BentoStoreError extends Error {
  override name = "BentoStoreError";
  constructor(
    readonly code: "NOT_FOUND" | "INVALID_TAG" | "CORRUPT" | "INVALID_ARCHIVE",
    message: string,
  ) {
    super(message);
  }
}

function parseBentoTag(tag: string): { name: string; version: string | null } {
  try {
    return parseTag(tag);
  } catch (err) {
    throw new BentoStoreError("INVALID_TAG", (err as Error).message.replace("model", "bento"));
  }
}

function versionDirs(dir: string): { version: string; mtimeMs: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith(".") && existsSync(join(dir, d.name, BENTO_RECORD)))
    .map((d) => ({ version: d.name, mtimeMs: statSync(join(dir, d.name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || (a.version < b.version ? -1 : 1));
}

/**
 * The directory of a bento in `<home>/bentos` for `name`, `name:latest` or `name:version`, or null when
 * there is none (or the tag is not a valid tag). Synchronous, for `bentoc serve TAG`.
 */
export function resolveBentoPath(tag: string, home: string): string | null {
  let parsed: { name: string; version: string | null };
  try {
    parsed = parseTag(tag);
  } catch {
    return null;
  }
  const nameDir = join(resolve(home), "bentos", parsed.name);
  if (parsed.version !== null) {
    const dir = join(nameDir, parsed.version);
    return existsSync(join(dir, BENTO_RECORD)) ? dir : null;
  }
  const newest = versionDirs(nameDir)[0];
  return newest ? join(nameDir, newest.version) : null;
}

/** Where a bento's models live: a model store root inside the bento (`<bento>/models`). */
export function bentoModelHome(bentoDir: string): string {
  return join(bentoDir, "models");
}

export class BentoStore {
  readonly home: string;
  readonly bentosDir: string;

  constructor(home: string) {
    this.home = resolve(home);
    this.bentosDir = join(this.home, "bentos");
  }

  async list(name?: string): Promise<StoredBento[]> {
    const names =
      name !== undefined
        ? [name]
        : existsSync(this.bentosDir)
          ? (await readdir(this.bentosDir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith(".")).map((d) => d.name)
          : [];
    const out: StoredBento[] = [];
    for (const n of names.sort()) {
      for (const { version } of versionDirs(join(this.bentosDir, n))) {
        const bento = await this.read(join(this.bentosDir, n, version)).catch(() => null);
        if (bento) out.push(bento);
      }
    }
    return out;
  }

  async get(tag: string): Promise<StoredBento> {
    const { name } = parseBentoTag(tag);
    const dir = resolveBentoPath(tag, this.home);
    if (dir) return this.read(dir);
    const versions = (await this.list(name)).map((b) => b.tag);
    const all = versions.length > 0 ? versions : [...new Set((await this.list()).map((b) => `${b.name}:latest`))];
    const hint =
      all.length === 0
        ? `no bentos in ${this.bentosDir}; build one with \`bentoc build\``
        : `${versions.length > 0 ? `versions of ${name}` : "known bentos"}: ${all.slice(0, 20).join(", ")}`;
    throw new BentoStoreError("NOT_FOUND", `bento ${tag} not found in ${this.home}; ${hint}`);
  }

  async read(dir: string): Promise<StoredBento> {
    const text = await readFile(join(dir, BENTO_RECORD), "utf8");
    let record: BentoRecord;
    try {
      record = parseRecord(text, dir);
    } catch (err) {
      throw new BentoStoreError("CORRUPT", (err as Error).message);
    }
    const st = await stat(dir);
    return { ...record, path: dir, created: new Date(st.mtimeMs).toISOString(), size: record.files.reduce((n, f) => n + f.size, 0) };
  }

  /** Checks every file's size and sha256 against the record, and the version against the content. */
  async verify(bento: BentoRecord & { path: string }): Promise<void> {
    await verifyBentoDir(bento.path, bento, bento.tag);
  }

  async delete(tag: string): Promise<StoredBento> {
    return withStoreLock(this.bentosDir, join(this.home, "bentos.lock"), async () => {
      const bento = await this.get(tag);
      const trash = join(await new ModelStore(this.home).tempDir("bento-delete"), "bento");
      await rename(bento.path, trash);
      await fsyncDir(dirname(bento.path));
      await rm(dirname(trash), { recursive: true, force: true });
      await rmdir(dirname(bento.path)).catch(() => undefined); // only when no version is left
      return bento;
    });
  }

  /** A fresh directory on the store's file system for preparing a bento. */
  async tempDir(prefix: string): Promise<string> {
    return new ModelStore(this.home).tempDir(prefix);
  }

  /**
   * Moves a prepared directory (holding bento.yaml) into `bentos/<name>/<version>`. If that version exists
   * already (same content, by construction) the prepared copy is dropped and the existing one is marked
   * newest. Returns the installed bento and whether it was new.
   */
  async install(prepared: string, record: BentoRecord): Promise<{ bento: StoredBento; created: boolean }> {
    return withStoreLock(this.bentosDir, join(this.home, "bentos.lock"), async () => {
      const nameDir = join(this.bentosDir, record.name);
      const target = join(nameDir, record.version);
      if (existsSync(join(target, BENTO_RECORD))) {
        await rm(prepared, { recursive: true, force: true });
        const now = new Date();
        await utimes(target, now, now);
        return { bento: await this.read(target), created: false };
      }
      await mkdir(nameDir, { recursive: true });
      await fsyncDir(prepared);
      await rename(prepared, target);
      await fsyncDir(nameDir);
      return { bento: await this.read(target), created: true };
    });
  }
}

/** Sorted relative paths of every regular file under `dir`; links and special files are refused. */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (d.isFile()) out.push(rel);
    else throw new BentoStoreError("CORRUPT", `${join(dir, rel)} is not a regular file`);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Verifies a bento directory against its record: exact file set, sizes, sha256 and content version. */
export async function verifyBentoDir(dir: string, record: BentoRecord, what: string): Promise<void> {
  const fail = (why: string) => new BentoStoreError("CORRUPT", `bento ${what} is corrupted: ${why}`);
  const listed = new Set(record.files.map((f) => f.path));
  const present = (await listFiles(dir)).filter((p) => p !== BENTO_RECORD);
  const extra = present.filter((p) => !listed.has(p));
  if (extra.length > 0) throw fail(`files not listed in ${BENTO_RECORD}: ${extra.join(", ")}`);
  const sealed = new Map<string, string>();
  for (const f of record.files) {
    const full = join(dir, ...f.path.split("/"));
    const st = await lstat(full).catch(() => null);
    if (!st?.isFile()) throw fail(`file ${f.path} is missing`);
    if (st.size !== f.size) throw fail(`file ${f.path} has ${st.size} bytes, expected ${f.size}`);
    const sha = await sha256File(full);
    if (sha !== f.sha256) throw fail(`file ${f.path} has sha256 ${sha}, expected ${f.sha256}`);
    if (namesVersion(f.path)) {
      const seal = sealedSha256(await readFile(full, "utf8"), record.version);
      if (seal === undefined) throw fail(`file ${f.path} holds the version placeholder`);
      sealed.set(f.path, seal);
    }
  }
  const version = contentVersion(record.name, record.files, sealed);
  if (version !== record.version)
    throw fail(`its version ${record.version} does not match its content (${version}): a file was changed after the bento was built`);
}

/**
 * The directory of the bento `tag` names in the store at `home`, after checking it whole (every file's
 * size and sha256, and the version sealed over all of them): an edited file under a known tag is refused.
 * Undefined when `tag` names no bento there.
 */
export async function resolveVerifiedBento(tag: string, home: string): Promise<string | undefined> {
  const dir = resolveBentoPath(tag, home);
  if (dir === null) return undefined;
  const record = readRecordSync(dir);
  await verifyBentoDir(dir, record, record.tag);
  return dir;
}

export function readRecordSync(dir: string): BentoRecord {
  return parseRecord(readFileSync(join(dir, BENTO_RECORD), "utf8"), dir);
}
