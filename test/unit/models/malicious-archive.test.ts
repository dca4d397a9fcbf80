import { existsSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { Header } from "tar";
import { describe, expect, it } from "vitest";
import { ModelStore, ModelStoreError } from "../../../runtime/models/index.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { type RawEntry, rawTarGz } from "./fixtures/raw-tar.ts";
import { useTempDirs } from "./temp-home.ts";

const tempDir = useTempDirs();

/** A genuine export, its entries (to build hostile variants from), and an empty target store. */
async function setup() {
  const source = new ModelStore(await tempDir());
  const saved = await source.save([{ path: "model.onnx", data: buildTabular() }], { name: "victim" });
  const work = await tempDir();
  const genuine = join(work, "genuine.tar.gz");
  await source.exportModel(saved.tag, genuine);
  const entries: RawEntry[] = [
    { path: "model.json", data: await readFile(join(saved.path, "model.json")) },
    { path: "model.onnx", data: await readFile(join(saved.path, "model.onnx")) },
  ];
  const target = new ModelStore(await tempDir());
  const write = async (name: string, list: readonly RawEntry[]) => {
    const file = join(work, name);
    await writeFile(file, rawTarGz(list));
    return file;
  };
  return { saved, work, genuine, entries, target, write };
}

async function rejected(store: ModelStore, archive: string, pattern: RegExp): Promise<void> {
  const err = await store.importModel(archive).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelStoreError);
  expect((err as ModelStoreError).code).toBe("INVALID_ARCHIVE");
  expect((err as Error).message).toMatch(pattern);
  expect(await store.list()).toEqual([]);
  expect(await readdir(join(store.home, ".tmp"))).toEqual([]);
}

describe("import rejects malicious or altered archives", () => {
  it("accepts the genuine archive and a hand-written equivalent (controls)", async () => {
    const { genuine, target, saved, entries, write } = await setup();
    expect((await target.importModel(genuine)).tag).toBe(saved.tag);
    const other = new ModelStore(await tempDir());
    expect((await other.importModel(await write("raw.tar.gz", entries))).tag).toBe(saved.tag);
  });

  it("rejects an entry with '..' and writes nothing outside", async () => {
    const { work, entries, target, write } = await setup();
    await writeFile(join(work, "escape.txt"), "untouched");
    const archive = await write("dotdot.tar.gz", [...entries, { path: "../escape.txt", data: "pwned" }]);
    await rejected(target, archive, /path with '\.\.' \.\.\/escape\.txt/);
    expect(await readFile(join(work, "escape.txt"), "utf8")).toBe("untouched");
    await rejected(target, await write("dotdot2.tar.gz", [...entries, { path: "sub/../../escape.txt", data: "pwned" }]), /'\.\.'/);
    expect(await readFile(join(work, "escape.txt"), "utf8")).toBe("untouched");
  });

  it("rejects an absolute path and writes nothing there", async () => {
    const { work, entries, target, write } = await setup();
    const abs = join(work, "absolute.txt");
    await rejected(target, await write("absolute.tar.gz", [...entries, { path: abs, data: "pwned" }]), /absolute path/);
    expect(existsSync(abs)).toBe(false);
  });

  it("rejects a symbolic link", async () => {
    const { entries, target, write } = await setup();
    await rejected(
      target,
      await write("symlink.tar.gz", [...entries, { path: "passwd", type: "SymbolicLink", linkpath: "/etc/passwd" }]),
      /symbolic link passwd/,
    );
  });

  it("rejects a hard link", async () => {
    const { entries, target, write } = await setup();
    await rejected(target, await write("hardlink.tar.gz", [...entries, { path: "copy.onnx", type: "Link", linkpath: "model.onnx" }]), /hard link copy\.onnx/);
  });

  it("rejects special files", async () => {
    const { entries, target, write } = await setup();
    await rejected(target, await write("fifo.tar.gz", [...entries, { path: "pipe", type: "FIFO" }]), /FIFO entry pipe/);
  });

  it("rejects entries the record does not list, and duplicates", async () => {
    const { entries, target, write } = await setup();
    await rejected(
      target,
      await write("extra.tar.gz", [...entries, { path: "payload.sh", data: "echo hi" }]),
      /unexpected entry payload\.sh: the record does not list it/,
    );
    await rejected(target, await write("dup.tar.gz", [...entries, entries[1]!]), /duplicate entries model\.onnx/);
  });

  it("rejects a file whose sha256 differs from the record", async () => {
    const { entries, target, write } = await setup();
    const bytes = Buffer.from(entries[1]!.data as Uint8Array);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await rejected(target, await write("altered.tar.gz", [entries[0]!, { path: "model.onnx", data: bytes }]), /model\.onnx has sha256/);
  });

  it("rejects an archive without a record, a record with a hostile path, and a file that is not an archive", async () => {
    const { work, saved, entries, target, write } = await setup();
    await rejected(target, await write("norecord.tar.gz", [entries[1]!]), /its first file must be model\.json, not model\.onnx/);
    const record = JSON.parse(String(entries[0]!.data));
    record.files.push({ path: "../x", size: 0, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" });
    await rejected(target, await write("badrecord.tar.gz", [{ path: "model.json", data: JSON.stringify(record) }, entries[1]!]), /invalid file path \.\.\/x/);
    const junk = join(work, "junk.tar.gz");
    await writeFile(junk, "definitely not gzip");
    await rejected(target, junk, /not a readable/);
    expect(existsSync(join(target.modelsDir, saved.name))).toBe(false);
  });

  it("refuses a decompression bomb from its record, before writing it: 200 MB declared by a ~200 KB archive", async () => {
    const { entries, target, work } = await setup();
    const record = JSON.parse(Buffer.from(entries[0]!.data as Uint8Array).toString("utf8")) as {
      files: { path: string; size: number; sha256: string }[];
      size: number;
    };
    const big = 200 * 1024 * 1024;
    record.files = [{ path: "model.onnx", size: big, sha256: "0".repeat(64) }];
    record.size = big;
    const file = join(work, "bomb.tar.gz");
    await writeFile(file, await zeroBombTarGz(JSON.stringify(record), "model.onnx", big));
    expect((await stat(file)).size).toBeLessThan(1024 * 1024);
    await rejected(target, file, /declares 209715200 bytes from a \d+-byte archive, more than 100 times its size/);
  });

  it("stops at an entry longer than its record says, having written no more than the record allowed", async () => {
    const { entries, target, write } = await setup();
    const record = JSON.parse(Buffer.from(entries[0]!.data as Uint8Array).toString("utf8")) as { files: { path: string; size: number }[] };
    const onnx = entries[1]!;
    const longer = Buffer.concat([Buffer.from(onnx.data as Uint8Array), Buffer.alloc(4096)]);
    await rejected(
      target,
      await write("long.tar.gz", [entries[0]!, { path: "model.onnx", data: longer }]),
      new RegExp(`model\\.onnx declares ${longer.length} bytes, its record says ${record.files[0]!.size}`),
    );
  });

  it("refuses more entries than the limit", async () => {
    const { entries, target, write } = await setup();
    const dirs = Array.from({ length: 10_001 }, (_, i) => ({ path: `d${i}/`, type: "Directory" as const }));
    await rejected(target, await write("many.tar.gz", [entries[0]!, ...dirs, entries[1]!]), /more than 10000 entries/);
  });
});

/** A .tar.gz of `record` (model.json) then one entry of `size` zero bytes, streamed through gzip. */
async function zeroBombTarGz(record: string, name: string, size: number): Promise<Buffer> {
  const header = (path: string, length: number) => {
    const block = Buffer.alloc(512);
    new Header({ path, type: "File", size: length, mode: 0o644, mtime: new Date(0) }).encode(block, 0);
    return block;
  };
  const gzip = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gzip.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((r) => gzip.on("end", r));
  const recordBytes = Buffer.from(record);
  gzip.write(header("model.json", recordBytes.length));
  gzip.write(Buffer.concat([recordBytes, Buffer.alloc((512 - (recordBytes.length % 512)) % 512)]));
  gzip.write(header(name, size));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < size; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((r) => gzip.once("drain", r));
  }
  gzip.end(Buffer.alloc(1024));
  await done;
  return Buffer.concat(out);
}
