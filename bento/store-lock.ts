/** A cross-process lock on a store directory (proper-lockfile, the same settings as the model store's). */
import { mkdir } from "node:fs/promises";
import lockfile from "proper-lockfile";

export async function withStoreLock<T>(dir: string, lockfilePath: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath,
      stale: 30_000,
      retries: { retries: 300, factor: 1.3, minTimeout: 5, maxTimeout: 200, randomize: true },
    });
  } catch (err) {
    throw new Error(`could not lock ${dir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
