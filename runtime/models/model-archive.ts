/**
 * Export and import of one model as a single .tar.gz: `model.json` plus the model's files at the root.
 * Import is strict: absolute paths, `..`, links of any kind, special files, duplicates and entries the
 * record does not list are rejected, and every file's size and sha256 must match the record.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { create, extract, type ReadEntry } from "tar";
import { verifyFiles } from "./file-hash.ts";
import { fsyncPath } from "./fs-atomic.ts";
import { RECORD_FILE, recordProblem, type ModelRecord, type StoredModel } from "./model-record.ts";
import { ModelStoreError } from "./model-store-error.ts";
import { parseTag } from "./model-tag.ts";

export async function exportArchive(model: StoredModel, file: string): Promise<void> {
  await verifyFiles(model.tag, model.path, model.files);
  const target = resolve(file);
  const partial = join(dirname(target), `.${randomBytes(6).toString("hex")}.partial`);
  try {
    await create({ gzip: true, file: partial, cwd: model.path, portable: true, strict: true }, [RECORD_FILE, ...model.files.map((f) => f.path)]);
    await fsyncPath(partial);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/** Why an archive entry is refused, or null when it is acceptable. */
export function entryProblem(path: string, type: string): string | null {
  if (type !== "File" && type !== "OldFile" && type !== "Directory") {
    return type === "SymbolicLink" || type === "Link" ? `${type === "Link" ? "hard link" : "symbolic link"} ${path}` : `${type} entry ${path}`;
  }
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\\")) return `absolute path ${path}`;
  const parts = path.replace(/^\.\//, "").replace(/\/$/, "").split("/");
  if (parts.includes("..")) return `path with '..' ${path}`;
  if (parts.some((p) => p === "" || p === ".") && path !== "./") return `unnormalised path ${path}`;
  return null;
}

/** Extracts into `dir` (which must be empty) and returns the verified record. */
export async function importArchive(file: string, dir: string): Promise<ModelRecord> {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const fail = (why: string) => new ModelStoreError("INVALID_ARCHIVE", `refusing to import ${file}: ${why}`);
  try {
    await extract({
      file,
      cwd: dir,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      filter: (path: string, entry: ReadEntry | import("node:fs").Stats) => {
        const type = "type" in entry ? String(entry.type) : "File";
        const problem = entryProblem(path, type);
        if (problem) {
          problems.push(problem);
          return false;
        }
        if (type !== "Directory") {
          const clean = path.replace(/^\.\//, "");
          seen.set(clean, (seen.get(clean) ?? 0) + 1);
        }
        return true;
      },
    });
  } catch (err) {
    if (problems.length > 0) throw fail(problems.join("; "));
    throw fail(`not a readable .tar.gz (${(err as Error).message})`);
  }
  if (problems.length > 0) throw fail(problems.join("; "));
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([p]) => p);
  if (duplicates.length > 0) throw fail(`duplicate entries ${duplicates.join(", ")}`);
  if (!seen.has(RECORD_FILE)) throw fail(`it has no ${RECORD_FILE}`);

  let record: ModelRecord;
  try {
    record = JSON.parse(await readFile(join(dir, RECORD_FILE), "utf8")) as ModelRecord;
  } catch (err) {
    throw fail(`${RECORD_FILE} is not valid JSON (${(err as Error).message})`);
  }
  const problem = recordProblem(record);
  if (problem) throw fail(`invalid ${RECORD_FILE}: ${problem}`);
  try {
    parseTag(record.tag);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const listed = new Set(record.files.map((f) => f.path));
  for (const f of record.files) {
    const p = entryProblem(f.path, "File");
    if (p || f.path === RECORD_FILE) throw fail(`the record lists an invalid file path ${f.path}`);
  }
  const unexpected = [...seen.keys()].filter((p) => p !== RECORD_FILE && !listed.has(p));
  if (unexpected.length > 0) throw fail(`unexpected entries not listed in ${RECORD_FILE}: ${unexpected.join(", ")}`);
  const missing = [...listed].filter((p) => !seen.has(p));
  if (missing.length > 0) throw fail(`files listed in ${RECORD_FILE} are missing: ${missing.join(", ")}`);
  try {
    await verifyFiles(record.tag, dir, record.files);
  } catch (err) {
    throw fail((err as Error).message.replace(/ \(\/.*\)$| at \/.*$/, ""));
  }
  for (const f of record.files) await fsyncPath(join(dir, ...f.path.split("/")));
  return record;
}
