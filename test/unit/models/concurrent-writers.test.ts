import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { verifyFiles } from "../../../runtime/models/file-hash.ts";
import { ModelStore } from "../../../runtime/models/index.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { useTempDirs } from "./temp-home.ts";

const run = promisify(execFile);
const tempDir = useTempDirs();
const saver = fileURLToPath(new URL("./fixtures/save-model.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/tsx/dist/cli.mjs", import.meta.url));

async function expectIntact(store: ModelStore, name: string, expected: readonly string[]): Promise<void> {
  const listed = await store.list({ name });
  expect(listed.map((m) => m.tag).sort()).toEqual([...expected].sort());
  for (const m of listed) await verifyFiles(m.tag, m.path, m.files);
  // Versions of one name are strictly ordered and the newest is what `name` resolves to.
  const versions = listed.map((m) => m.version);
  expect(new Set(versions).size).toBe(versions.length);
  expect((await store.get(name)).version).toBe([...versions].sort().at(-1));
  // Nothing half-written is left behind.
  expect(await readdir(join(store.home, ".tmp"))).toEqual([]);
}

describe("concurrent writers", () => {
  it("saves from several processes at once: every version present, distinct and intact", async () => {
    const home = await tempDir();
    const workers = 4;
    const perWorker = 3;
    const outputs = await Promise.all(
      Array.from({ length: workers }, (_, w) => run(process.execPath, [tsx, saver, home, "shared", String(perWorker), String(w)], { encoding: "utf8" })),
    );
    const tags = outputs.flatMap((o) => JSON.parse(o.stdout) as string[]);
    expect(tags).toHaveLength(workers * perWorker);
    expect(new Set(tags).size).toBe(tags.length);
    const store = new ModelStore(home);
    await expectIntact(store, "shared", tags);
    const labels = (await store.list({ name: "shared" })).map((m) => `${m.labels["worker"]}/${m.labels["index"]}`).sort();
    expect(labels).toEqual(
      Array.from({ length: workers }, (_, w) => Array.from({ length: perWorker }, (_, i) => `${w}/${i}`))
        .flat()
        .sort(),
    );
  });

  it("saves and deletes concurrently within one process", async () => {
    const store = new ModelStore(await tempDir());
    const data = buildTabular();
    const first = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.save([{ path: "model.onnx", data }], { name: "same", labels: { i: String(i) } })),
    );
    const [deleted, ...more] = await Promise.all([
      store.delete(first[0]!.tag),
      ...Array.from({ length: 4 }, () => store.save([{ path: "model.onnx", data }], { name: "same" })),
    ]);
    expect(deleted.tag).toBe(first[0]!.tag);
    const expected = [...first.slice(1), ...(more as typeof first)].map((m) => m.tag);
    await expectIntact(store, "same", expected);
  });
});
