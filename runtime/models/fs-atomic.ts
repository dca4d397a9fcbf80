/** Durable file-system steps for atomic writes: fsync of files and directories, unique temp names. */
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a directory makes a rename inside it durable; some file systems refuse, which is harmless. */
export async function fsyncDir(path: string): Promise<void> {
  try {
    await fsyncPath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM") throw err;
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}
