/**
 * Export and import of a bento as one .tar.gz: `bento.yaml` first, then every file of the bento, models
 * included (they live in the bento's `models/` store root). Import streams through the shared archive
 * rules (runtime/archive/safe-extract.ts: no absolute paths, `..`, links or special files, no duplicates
 * or unlisted entries, every size and sha256 as the record says, size and ratio limits), then verifies the
 * content version, installs atomically, and adds the bento's models to the model store (skipping those
 * already there).
 */
import { readFile, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { create } from "tar";
import { extractArchive } from "../runtime/archive/safe-extract.ts";
import { fsyncPath, uniqueName } from "../runtime/models/fs-atomic.ts";
import { exportArchive } from "../runtime/models/model-archive.ts";
import { type ModelRecord, RECORD_FILE, recordProblem } from "../runtime/models/model-record.ts";
import { ModelStore } from "../runtime/models/model-store.ts";
import { ModelStoreError } from "../runtime/models/model-store-error.ts";
import { BENTO_RECORD, type BentoRecord, parseRecord } from "./bento-record.ts";
import { type BentoStore, BentoStoreError, type StoredBento, verifyBentoDir } from "./bento-store.ts";

const FIXED_MTIME = new Date("2000-01-01T00:00:00Z");

export async function exportBento(store: BentoStore, tag: string, file: string): Promise<StoredBento> {
  const bento = await store.get(tag);
  await store.verify(bento);
  const target = resolve(file);
  const partial = join(dirname(target), `.${uniqueName("bento")}.partial`);
  try {
    await create({ gzip: true, file: partial, cwd: bento.path, portable: true, strict: true, mtime: FIXED_MTIME }, [
      BENTO_RECORD,
      ...bento.files.map((f) => f.path),
    ]);
    await fsyncPath(partial);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return bento;
}

export interface ImportResult {
  bento: StoredBento;
  created: boolean;
  /** Model tags added to the model store (those it had already are skipped). */
  modelsImported: string[];
}

export async function importBento(store: BentoStore, file: string): Promise<ImportResult> {
  const tmp = await store.tempDir("bento-import");
  const fail = (why: string) => new BentoStoreError("INVALID_ARCHIVE", `refusing to import ${file}: ${why}`);
  try {
    let record: BentoRecord | undefined;
    try {
      await extractArchive(file, tmp, {
        record: BENTO_RECORD,
        expect(bytes) {
          const parsed = parseRecord(bytes.toString("utf8"), file);
          parseTag(parsed.name, parsed.version);
          record = parsed;
          return parsed.files;
        },
      });
    } catch (err) {
      throw fail((err as Error).message);
    }
    if (!record) throw fail(`it has no ${BENTO_RECORD}`);
    return await installCheckedBento(store, tmp, record, fail);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Installs a bento prepared in `dir` (a directory from `store.tempDir`, holding bento.yaml and its files:
 * an import or a pull): verified whole against its record and its sealed version, its models added to the
 * model store, then renamed into place. `fail` words a verification failure for the caller.
 */
export async function installCheckedBento(store: BentoStore, dir: string, record: BentoRecord, fail: (why: string) => Error): Promise<ImportResult> {
  try {
    await verifyBentoDir(dir, record, record.tag);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const models = new ModelStore(store.home);
  const modelsImported = await importCarriedModels(dir, record.models, models);
  const { bento, created } = await store.install(dir, record);
  return { bento, created, modelsImported };
}

/** Checks a bento record's name and version (a content hash) as tags. */
export function checkBentoTag(name: string, version: string): void {
  parseTag(name, version);
}

function parseTag(name: string, version: string): void {
  const part = /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/;
  if (!part.test(name) || name.includes("..")) throw new Error(`invalid bento name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{16}$/.test(version)) throw new Error(`invalid bento version ${JSON.stringify(version)}`);
}

/**
 * Adds each model a bento carries (`<bento>/models/models/<name>/<version>`) to `store`, keeping its tag,
 * through the model store's own archive import (so its checks apply). Returns the tags added.
 */
export async function importCarriedModels(bentoDir: string, tags: readonly string[], store: ModelStore): Promise<string[]> {
  const added: string[] = [];
  for (const tag of tags) {
    const [name = "", version = ""] = tag.split(":");
    const dir = join(bentoDir, "models", "models", name, version);
    const record = JSON.parse(await readFile(join(dir, RECORD_FILE), "utf8")) as ModelRecord;
    const problem = recordProblem(record);
    if (problem || record.tag !== tag)
      throw new BentoStoreError("CORRUPT", `the model ${tag} carried by the bento has an invalid ${RECORD_FILE}: ${problem ?? "tag mismatch"}`);
    const exists = await store.get(tag).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ModelStoreError && err.code === "NOT_FOUND") return false;
        throw err;
      },
    );
    if (exists) continue;
    const archive = join(await store.tempDir("bento-model"), "model.tar.gz");
    try {
      await exportArchive({ ...record, path: dir }, archive);
      await store.importModel(archive);
      added.push(tag);
    } finally {
      await rm(dirname(archive), { recursive: true, force: true });
    }
  }
  return added;
}
