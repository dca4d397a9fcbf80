/**
 * Writes emitted files into the output directory. Each file is written to a temp name and renamed into
 * place, so a reader (or `serve --reload`) never sees a half-written file; files are rewritten only when
 * their bytes change, so watchers downstream are not woken for nothing.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export async function writeOutputs(outDir: string, files: Record<string, string>): Promise<string[]> {
  const written: string[] = [];
  for (const rel of Object.keys(files).sort()) {
    const content = files[rel] ?? "";
    const target = join(outDir, rel);
    const current = await readFile(target, "utf8").catch(() => null);
    if (current === content) continue;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
    await writeFile(temp, content);
    await rename(temp, target);
    written.push(rel);
  }
  return written;
}
