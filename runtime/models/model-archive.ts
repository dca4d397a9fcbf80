/**
 * Export and import of one model as a single .tar.gz: `model.json` first, then the model's files at the
 * root. Import is strict: absolute paths, `..`, links of any kind, special files, duplicates and entries the
 * record does not list are rejected, and every file's size and sha256 must match the record.
 */
import { randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { extractArchive } from "../archive/safe-extract.ts";
import { verifyFiles } from "./file-hash.ts";
import { fsyncPath } from "./fs-atomic.ts";
import { type ModelRecord, RECORD_FILE, recordProblem, type StoredModel } from "./model-record.ts";
import { ModelStoreError } from "./model-store-error.ts";
import { parseTag } from "./model-tag.ts";

export async function exportArchive(model: StoredModel, file: string): Promise<void> {
  await verifyFiles(model.tag, model.path, model.files);
  const target = resolve(file);
  const partial = join(dirname(target), `.${randomBytes(6).toString("hex")}.partial`);
  try {
    // tar loads on first use (a server resolving its models never needs it).
    const { create } = await import("tar");
    await create({ gzip: true, file: partial, cwd: model.path, portable: true, strict: true }, [RECORD_FILE, ...model.files.map((f) => f.path)]);
    await fsyncPath(partial);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/**
 * Extracts into `dir` (which must be empty) and returns the verified record: one streaming pass under the
 * shared archive rules (runtime/archive/safe-extract.ts) — the record first, then exactly the files it
 * lists, each of its size and sha256, within the size and ratio limits.
 */
export async function importArchive(file: string, dir: string): Promise<ModelRecord> {
  let record: ModelRecord | undefined;
  try {
    await extractArchive(file, dir, {
      record: RECORD_FILE,
      expect(bytes) {
        let parsed: ModelRecord;
        try {
          parsed = JSON.parse(bytes.toString("utf8")) as ModelRecord;
        } catch (err) {
          throw new Error(`${RECORD_FILE} is not valid JSON (${(err as Error).message})`);
        }
        const problem = recordProblem(parsed);
        if (problem) throw new Error(`invalid ${RECORD_FILE}: ${problem}`);
        parseTag(parsed.tag);
        record = parsed;
        return parsed.files;
      },
    });
  } catch (err) {
    throw new ModelStoreError("INVALID_ARCHIVE", `refusing to import ${file}: ${(err as Error).message}`);
  }
  if (!record) throw new ModelStoreError("INVALID_ARCHIVE", `refusing to import ${file}: it has no ${RECORD_FILE}`);
  for (const f of record.files) await fsyncPath(join(dir, ...f.path.split("/")));
  return record;
}
