/**
 * Extracting a store archive (a model or a bento as `.tar.gz`) that may be hostile, for both stores. One
 * streaming pass, nothing trusted before it is checked:
 *
 * - the first file entry must be the archive's record (`model.json`, `bento.yaml`), read into memory
 *   (at most `maxRecordBytes`) and written beside the files; the store turns it into the list of files the
 *   archive must hold, each with its size and sha256;
 * - the record's total may not pass `maxTotalBytes`, nor `maxRatio` times the archive's own size (a
 *   decompression bomb declares more than its bytes can hold);
 * - every later entry must be a plain file or directory (no links, devices, absolute paths or `..`),
 *   listed in the record, seen once, of the size the record says; it is written as it streams in (never
 *   held in memory), hashed on the way, and its sha256 compared the moment it ends;
 * - at most `maxEntries` entries; and files the record lists must all be there.
 *
 * The first problem stops the stream at once, so what reaches the disk is bounded by what the record
 * declared. The caller extracts into a fresh temporary directory and removes it on failure.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ReadEntry } from "tar";

export interface ExpectedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ArchiveLimits {
  /** Entries (files and directories) in the archive. */
  maxEntries: number;
  /** Bytes the record may declare in all. */
  maxTotalBytes: number;
  /** Declared bytes per byte of archive. Real models compress ~1.1:1, JSON and text ~5:1. */
  maxRatio: number;
  /** Size of the record entry. */
  maxRecordBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 10_000,
  maxTotalBytes: 64 * 1024 ** 3,
  maxRatio: 100,
  maxRecordBytes: 4 * 1024 * 1024,
};

export interface ExtractPlan {
  /** Name of the record entry, which must come first. */
  record: string;
  /** The files the archive must hold, from the record's bytes; throws (with why) when the record is invalid. */
  expect(record: Buffer): ExpectedFile[];
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

/** The archive is refused: `reason` says why (one line). */
export class ArchiveRefused extends Error {
  override name = "ArchiveRefused";
}

/** Extracts `file` into `dir` (empty) under `plan` and `limits`; resolves with the record's bytes. */
export async function extractArchive(file: string, dir: string, plan: ExtractPlan, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<Buffer> {
  const archiveBytes = (await stat(file)).size;
  // tar loads on first use: the serving process imports this module (through the model store) but never extracts.
  const { Parser } = await import("tar");
  return new Promise<Buffer>((resolve, reject) => {
    const input = createReadStream(file);
    let settled = false;
    let entries = 0;
    let record: Buffer | undefined;
    let expected: Map<string, ExpectedFile> | undefined;
    const seen = new Set<string>();
    const writing = new Set<Promise<void>>();

    const refuse = (why: string): void => {
      if (settled) return;
      settled = true;
      input.destroy();
      parser.abort(new ArchiveRefused(why));
      reject(new ArchiveRefused(why));
    };

    const onRecord = (data: Buffer): void => {
      record = data;
      writeFileSync(join(dir, plan.record), data, { flag: "wx" });
      let files: ExpectedFile[];
      try {
        files = plan.expect(data);
      } catch (err) {
        return refuse((err as Error).message);
      }
      expected = new Map();
      let total = 0;
      for (const f of files) {
        const problem = entryProblem(f.path, "File");
        if (problem || f.path === plan.record) return refuse(`the record lists an invalid file path ${f.path}`);
        if (expected.has(f.path)) return refuse(`the record lists ${f.path} twice`);
        expected.set(f.path, f);
        total += f.size;
      }
      if (total > limits.maxTotalBytes) return refuse(`the record declares ${total} bytes, more than the limit of ${limits.maxTotalBytes}`);
      if (total > limits.maxRatio * Math.max(archiveBytes, 1)) {
        return refuse(
          `the record declares ${total} bytes from a ${archiveBytes}-byte archive, more than ${limits.maxRatio} times its size (a decompression bomb?)`,
        );
      }
    };

    const writeEntry = (entry: ReadEntry, path: string, want: ExpectedFile): void => {
      const target = join(dir, ...path.split("/"));
      const hash = createHash("sha256");
      let size = 0;
      // Everything synchronously, in this callback: the entry's data must find its listeners in place.
      mkdirSync(dirname(target), { recursive: true });
      const out = createWriteStream(target, { flags: "wx" });
      const done = new Promise<void>((ok, fail) => {
        out.on("error", fail);
        out.on("finish", ok);
      });
      // One consumer hashes and writes each chunk (a second one could miss what the first already drained).
      entry.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > want.size) return refuse(`${path} is longer than the ${want.size} bytes its record says`);
        hash.update(chunk);
        if (!out.write(chunk)) {
          entry.pause();
          out.once("drain", () => entry.resume());
        }
      });
      entry.on("end", () => {
        out.end();
        if (settled) return;
        const sha = hash.digest("hex");
        if (size !== want.size) refuse(`${path} has ${size} bytes, its record says ${want.size}`);
        else if (sha !== want.sha256) refuse(`${path} has sha256 ${sha}, its record says ${want.sha256}`);
      });
      writing.add(done);
      done.catch((err: Error) => refuse(`writing ${path} failed: ${err.message}`)).finally(() => writing.delete(done));
    };

    const parser = new Parser({
      strict: true,
      noResume: true,
      onReadEntry: (entry: ReadEntry) => {
        if (settled) return entry.resume();
        if (++entries > limits.maxEntries) return refuse(`it has more than ${limits.maxEntries} entries`);
        const type = String(entry.type);
        const problem = entryProblem(entry.path, type);
        if (problem) return refuse(problem);
        const path = entry.path.replace(/^\.\//, "").replace(/\/$/, "");
        if (type === "Directory") return entry.resume();
        if (seen.has(path)) return refuse(`duplicate entries ${path}`);
        seen.add(path);
        if (record === undefined) {
          if (path !== plan.record) return refuse(`its first file must be ${plan.record}, not ${path}`);
          if (entry.size > limits.maxRecordBytes) return refuse(`${plan.record} is larger than ${limits.maxRecordBytes} bytes`);
          const chunks: Buffer[] = [];
          entry.on("data", (c: Buffer) => chunks.push(c));
          entry.on("end", () => onRecord(Buffer.concat(chunks)));
          return;
        }
        const want = expected?.get(path);
        if (!want) return refuse(`unexpected entry ${path}: the record does not list it`);
        if (entry.size !== want.size) return refuse(`${path} declares ${entry.size} bytes, its record says ${want.size}`);
        writeEntry(entry, path, want);
      },
    });
    parser.on("error", (err: Error) => refuse(`not a readable .tar.gz (${err.message})`));
    parser.on("warn", (_code: string, message: string) => refuse(`not a readable .tar.gz (${message})`));
    parser.on("end", () => {
      void Promise.all([...writing]).then(() => {
        if (settled) return;
        if (record === undefined || expected === undefined) return refuse(`it has no ${plan.record}`);
        const missing = [...expected.keys()].filter((p) => !seen.has(p));
        if (missing.length > 0) return refuse(`files listed in its record are missing: ${missing.join(", ")}`);
        settled = true;
        resolve(record);
      });
    });
    input.on("error", (err) => refuse(`cannot read it (${err.message})`));
    input.pipe(parser);
  });
}
