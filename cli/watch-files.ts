/**
 * Watches the service's source files (the set changes as imports change) and calls `onChange` with the
 * changed paths, debounced and serialised: a change during a rebuild triggers one more rebuild after it.
 */

import { dirname } from "node:path";
import { type FSWatcher, watch } from "chokidar";

export interface FileWatcher {
  close(): Promise<void>;
}

export function watchFiles(files: () => string[], ignoreDir: string, onChange: (changed: string[]) => Promise<void>, debounceMs = 15): FileWatcher {
  const dirs = () => [...new Set(files().map((f) => dirname(f)))];
  const watcher: FSWatcher = watch(dirs(), {
    ignoreInitial: true,
    depth: 0,
    ignored: (path) => path.startsWith(ignoreDir) || path.includes("node_modules") || /\.tmp-\d+/.test(path),
  });
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    if (running) return;
    const changed = [...pending];
    pending = new Set();
    running = onChange(changed).catch((err: unknown) => {
      process.stderr.write(`watch: ${err instanceof Error ? err.message : String(err)}\n`);
    });
    await running;
    running = undefined;
    watcher.add(dirs());
    if (pending.size) await flush();
  };
  const onEvent = (path: string) => {
    if (!/\.(m|c)?tsx?$|\.json$/.test(path)) return;
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => void flush(), debounceMs);
  };
  watcher.on("change", onEvent).on("add", onEvent).on("unlink", onEvent);
  return {
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
