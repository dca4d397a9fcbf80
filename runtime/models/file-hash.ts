/** Streaming sha256 of files, and verification of a model directory against its record. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { ModelFileEntry } from "./model-record.ts";
import { ModelStoreError } from "./model-store-error.ts";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function sha256Bytes(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Checks presence, size and (unless `hash: false`) sha256 of every file; throws CORRUPT naming the tag and the file. */
export async function verifyFiles(tag: string, dir: string, files: readonly ModelFileEntry[], options: { hash?: boolean } = {}): Promise<void> {
  for (const f of files) {
    const full = join(dir, f.path);
    const st = await lstat(full).catch(() => null);
    if (!st?.isFile()) {
      throw new ModelStoreError("CORRUPT", `model ${tag} is corrupted: file ${f.path} is missing (${full})`);
    }
    if (st.size !== f.size) {
      const how = st.size < f.size ? "truncated" : "larger than recorded";
      throw new ModelStoreError("CORRUPT", `model ${tag} is corrupted: file ${f.path} is ${how} (${st.size} bytes, expected ${f.size}) at ${full}`);
    }
    if (options.hash === false) continue;
    const actual = await sha256File(full);
    if (actual !== f.sha256) {
      throw new ModelStoreError("CORRUPT", `model ${tag} is corrupted: file ${f.path} has sha256 ${actual}, expected ${f.sha256} (${full})`);
    }
  }
}
