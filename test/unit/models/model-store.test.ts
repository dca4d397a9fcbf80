import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ModelStore, ModelStoreError, models } from "../../../runtime/models/index.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { useTempDirs } from "./temp-home.ts";

const tempDir = useTempDirs();
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function storeError(p: Promise<unknown>): Promise<ModelStoreError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelStoreError);
  return err as ModelStoreError;
}

describe("model store", () => {
  it("saves a model with extra files and records io, labels, metadata, signatures and sha256", async () => {
    const store = new ModelStore(await tempDir());
    const onnx = buildTabular();
    const notes = new TextEncoder().encode("hello\n");
    const saved = await store.save(
      [
        { path: "model.onnx", data: onnx },
        { path: "docs/notes.txt", data: notes },
      ],
      { name: "tabular-mlp", labels: { team: "ml", stage: "dev" }, metadata: { epochs: 3, tags: ["a"] }, signatures: { predict: { batchable: true } } },
    );
    expect(saved.tag).toBe(`tabular-mlp:${saved.version}`);
    expect(saved.path).toBe(join(store.modelsDir, "tabular-mlp", saved.version));
    expect(saved.modelFile).toBe("model.onnx");
    expect(saved.labels).toEqual({ stage: "dev", team: "ml" });
    expect(saved.metadata).toEqual({ epochs: 3, tags: ["a"] });
    expect(saved.signatures).toEqual({ predict: { batchable: true, batchDim: 0 } });
    expect(saved.inputs).toEqual([{ name: "x", dtype: "float32", shape: ["N", 8] }]);
    expect(saved.outputs).toEqual([{ name: "y", dtype: "float32", shape: ["N", 3] }]);
    expect(saved.files).toEqual([
      { path: "docs/notes.txt", size: notes.length, sha256: sha256(notes) },
      { path: "model.onnx", size: onnx.length, sha256: sha256(onnx) },
    ]);
    expect(saved.size).toBe(onnx.length + notes.length);
    expect(Date.parse(saved.creationTime)).not.toBeNaN();
    expect(Buffer.compare(await readFile(join(saved.path, "model.onnx")), onnx)).toBe(0);
    const onDisk = JSON.parse(await readFile(join(saved.path, "model.json"), "utf8"));
    expect({ ...onDisk, path: saved.path }).toEqual(saved);
  });

  it("resolves name and name:latest to the newest version, name:version exactly; versions sort by time", async () => {
    const store = new ModelStore(await tempDir());
    const onnx = buildTabular();
    const tags: string[] = [];
    for (let i = 0; i < 5; i++) tags.push((await store.save([{ path: "model.onnx", data: onnx }], { name: "m" })).tag);
    expect(new Set(tags).size).toBe(5);
    const versions = tags.map((t) => t.split(":")[1] as string);
    expect([...versions].sort()).toEqual(versions);
    expect((await store.get("m")).tag).toBe(tags[4]);
    expect((await store.get("m:latest")).tag).toBe(tags[4]);
    expect((await store.get(tags[1] as string)).tag).toBe(tags[1]);
    expect((await store.list()).map((m) => m.tag)).toEqual([...tags].reverse());
    expect((await store.delete("m:latest")).tag).toBe(tags[4]);
    expect((await store.get("m")).tag).toBe(tags[3]);
  });

  it("saves a directory with its layout and a single .onnx file under its own name", async () => {
    const home = await tempDir();
    const src = await tempDir();
    await mkdir(join(src, "vocab"), { recursive: true });
    await writeFile(join(src, "model.onnx"), buildTabular());
    await writeFile(join(src, "vocab", "keys.txt"), "a\nb\n");
    const store = new ModelStore(home);
    const fromDir = await store.save(src, { name: "dir-model" });
    expect(fromDir.files.map((f) => f.path)).toEqual(["model.onnx", "vocab/keys.txt"]);
    expect(await readFile(join(fromDir.path, "vocab", "keys.txt"), "utf8")).toBe("a\nb\n");
    await writeFile(join(src, "other.onnx"), buildTabular());
    const single = await store.save(join(src, "other.onnx"), { name: "single" });
    expect(single.modelFile).toBe("other.onnx");
    expect(single.files.map((f) => f.path)).toEqual(["other.onnx"]);
  });

  it("lists with filters", async () => {
    const store = new ModelStore(await tempDir());
    const data = buildTabular();
    await store.save([{ path: "model.onnx", data }], { name: "a", labels: { env: "prod" } });
    await store.save([{ path: "model.onnx", data }], { name: "b", labels: { env: "dev" } });
    expect((await store.list({ labels: { env: "prod" } })).map((m) => m.name)).toEqual(["a"]);
    expect((await store.list({ name: "b" })).map((m) => m.name)).toEqual(["b"]);
    expect(await store.list({ name: "c" })).toEqual([]);
  });

  it("rejects bad names, bad inputs and symlinks with clear errors", async () => {
    const store = new ModelStore(await tempDir());
    const data = buildTabular();
    expect((await storeError(store.save([{ path: "model.onnx", data }], { name: "../evil" }))).code).toBe("INVALID_TAG");
    expect((await storeError(store.save([{ path: "model.onnx", data }], { name: "Upper" }))).code).toBe("INVALID_TAG");
    expect((await storeError(store.save([{ path: "../model.onnx", data }], { name: "x" }))).message).toMatch(/'\.\.'/);
    expect((await storeError(store.save([{ path: "model.json", data }], { name: "x" }))).message).toMatch(/reserved/);
    expect((await storeError(store.save([{ path: "notes.txt", data }], { name: "x" }))).message).toMatch(/no \.onnx file/);
    expect((await storeError(store.save([{ path: "model.onnx", data: new Uint8Array([1, 2, 3]) }], { name: "x" }))).message).toMatch(/not a valid ONNX model/);
    const src = await tempDir();
    await writeFile(join(src, "model.onnx"), data);
    await symlink("/etc/hostname", join(src, "link.txt"));
    expect((await storeError(store.save(src, { name: "x" }))).message).toMatch(/symbolic link/);
    expect(await store.list()).toEqual([]);
    expect(await readdir(join(store.home, ".tmp"))).toEqual([]);
  });

  it("names the known models when a tag is unknown", async () => {
    const store = new ModelStore(await tempDir());
    expect((await storeError(store.get("nothing"))).message).toMatch(/store is empty/);
    const saved = await store.save([{ path: "model.onnx", data: buildTabular() }], { name: "known" });
    const err = await storeError(store.get("unknown:latest"));
    expect(err.code).toBe("NOT_FOUND");
    expect(err.message).toContain("model unknown:latest not found");
    expect(err.message).toContain("known:latest");
    expect((await storeError(store.get("known:0000000000000000"))).message).toContain(saved.tag);
    expect((await storeError(store.delete("known:0000000000000000"))).code).toBe("NOT_FOUND");
  });

  it("exports and imports a model, byte for byte, keeping its tag", async () => {
    const a = new ModelStore(await tempDir());
    const b = new ModelStore(await tempDir());
    const out = await tempDir();
    const saved = await a.save(
      [
        { path: "model.onnx", data: buildTabular() },
        { path: "extra/tokens.txt", data: new TextEncoder().encode("x y z") },
      ],
      { name: "round-trip", labels: { k: "v" } },
    );
    const archive = join(out, "model.tar.gz");
    await a.exportModel("round-trip", archive);
    const imported = await b.importModel(archive);
    expect({ ...imported, path: "" }).toEqual({ ...saved, path: "" });
    for (const f of saved.files) {
      expect(await readFile(join(imported.path, f.path))).toEqual(await readFile(join(saved.path, f.path)));
    }
    expect((await storeError(b.importModel(archive))).code).toBe("EXISTS");
    await a.delete(saved.tag);
    expect((await a.importModel(archive)).tag).toBe(saved.tag);
  });

  it("is usable through the bentoc/models facade with BENTOC_HOME", async () => {
    const home = await tempDir();
    const previous = process.env["BENTOC_HOME"];
    process.env["BENTOC_HOME"] = home;
    try {
      const saved = await models.save([{ path: "model.onnx", data: buildTabular() }], { name: "facade" });
      expect(saved.path.startsWith(home)).toBe(true);
      expect((await models.list()).map((m) => m.tag)).toEqual([saved.tag]);
    } finally {
      if (previous === undefined) delete process.env["BENTOC_HOME"];
      else process.env["BENTOC_HOME"] = previous;
    }
  });

  it("never shows a half-written model: leftovers of a crashed writer are invisible", async () => {
    const store = new ModelStore(await tempDir());
    const saved = await store.save([{ path: "model.onnx", data: buildTabular() }], { name: "solid" });
    // A writer that died while copying (temp dir) and one that died before writing its record.
    await mkdir(join(store.home, ".tmp", "save-crashed"), { recursive: true });
    await writeFile(join(store.home, ".tmp", "save-crashed", "model.onnx"), "partial");
    await mkdir(join(store.modelsDir, "solid", "zzzzzzzzzzzzzzzz"), { recursive: true });
    expect((await store.list()).map((m) => m.tag)).toEqual([saved.tag]);
    expect((await store.get("solid")).tag).toBe(saved.tag);
    const next = await store.save([{ path: "model.onnx", data: buildTabular() }], { name: "solid" });
    expect((await store.get("solid")).tag).toBe(next.tag);
  });

  it("removes what a killed `models save` left behind the next time a process uses the store", async () => {
    const home = await tempDir();
    // A writer killed mid-copy: its temp directory names its pid, which no longer runs.
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const dead = Number(child.stdout);
    const orphan = join(home, ".tmp", `save-${dead}-${Date.now().toString(36)}-0badcafe`);
    await mkdir(orphan, { recursive: true });
    await writeFile(join(orphan, "model.onnx"), "partial");
    const old = new Date(Date.now() - 5 * 60_000);
    await utimes(orphan, old, old);
    // One of a process that still runs (this one) is left alone.
    const live = join(home, ".tmp", `save-${process.pid}-${Date.now().toString(36)}-0badcafe`);
    await mkdir(live, { recursive: true });
    await utimes(live, old, old);
    await new ModelStore(home).list();
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });
});
