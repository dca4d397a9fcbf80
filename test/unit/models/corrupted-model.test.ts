import { appendFile, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadOnnxModel, ModelStore, ModelStoreError } from "../../../runtime/models/index.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { useTempDirs } from "./temp-home.ts";

const tempDir = useTempDirs();

async function saveSample(home: string) {
  return new ModelStore(home).save(
    [
      { path: "model.onnx", data: buildTabular() },
      { path: "vocab.txt", data: new TextEncoder().encode("alpha\nbeta\n") },
    ],
    { name: "guarded" },
  );
}

async function loadError(tag: string, home: string): Promise<ModelStoreError> {
  const err = await loadOnnxModel(tag, { home }).then(
    async (m) => {
      await m.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelStoreError);
  expect((err as ModelStoreError).code).toBe("CORRUPT");
  return err as ModelStoreError;
}

describe("corrupted models are detected at load", () => {
  it("loads an intact model", async () => {
    const home = await tempDir();
    const saved = await saveSample(home);
    const model = await loadOnnxModel("guarded", { home, threads: 1 });
    expect(model.tag).toBe(saved.tag);
    await model.close();
  });

  it("a flipped byte in the ONNX file names the tag and the file", async () => {
    const home = await tempDir();
    const saved = await saveSample(home);
    const file = join(saved.path, "model.onnx");
    const bytes = await readFile(file);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const err = await loadError("guarded:latest", home);
    expect(err.message).toContain(saved.tag);
    expect(err.message).toContain("file model.onnx has sha256");
  });

  it("a truncated file names the tag, the file and the sizes", async () => {
    const home = await tempDir();
    const saved = await saveSample(home);
    const size = saved.files.find((f) => f.path === "model.onnx")!.size;
    await truncate(join(saved.path, "model.onnx"), 100);
    const err = await loadError(saved.tag, home);
    expect(err.message).toContain(saved.tag);
    expect(err.message).toContain(`file model.onnx is truncated (100 bytes, expected ${size})`);
  });

  it("a changed or missing extra file is caught too", async () => {
    const home = await tempDir();
    const saved = await saveSample(home);
    await appendFile(join(saved.path, "vocab.txt"), "gamma\n");
    expect((await loadError(saved.tag, home)).message).toContain("file vocab.txt is larger than recorded");
    await rm(join(saved.path, "vocab.txt"));
    expect((await loadError(saved.tag, home)).message).toContain("file vocab.txt is missing");
  });

  it("refuses to export a corrupted model", async () => {
    const home = await tempDir();
    const saved = await saveSample(home);
    await truncate(join(saved.path, "vocab.txt"), 1);
    const err = await new ModelStore(home).exportModel(saved.tag, join(home, "out.tar.gz")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelStoreError);
    expect((err as Error).message).toContain("vocab.txt is truncated");
  });
});
