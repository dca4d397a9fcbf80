/**
 * `bentoc build` and the bento store for real: the support-tickets sample (tiny model) is compiled,
 * bundled and packed into a temporary BENTOC_HOME; then list/get/delete/export/import and serve by tag.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBento, importBento } from "../../../bento/bento-archive.ts";
import { BentoStore, listFiles, resolveBentoPath } from "../../../bento/bento-store.ts";
import { loadBentofile } from "../../../bento/bentofile.ts";
import { buildBento } from "../../../bento/build-bento.ts";
import { bentoCompiler } from "../../../cli/commands/build.ts";
import { ModelStore } from "../../../runtime/models/model-store.ts";
import { bentoc, CLI, copySample, homeWithModel } from "./sample-copy.ts";

const compiler = await bentoCompiler();
let sample: ReturnType<typeof copySample>;
let home: ReturnType<typeof homeWithModel>;
const scratch = mkdtempSync(join(tmpdir(), "bento-build-test-"));

beforeAll(() => {
  sample = copySample();
  home = homeWithModel();
});
afterAll(() => {
  sample?.cleanup();
  home?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function digest(dir: string): Promise<Record<string, string>> {
  return listFiles(dir).then((files) =>
    Object.fromEntries(
      files.map((f) => [
        f,
        createHash("sha256")
          .update(readFileSync(join(dir, f)))
          .digest("hex"),
      ]),
    ),
  );
}

async function build(homeDir: string, bentofileText?: string) {
  const file = join(sample.dir, "bentofile.yaml");
  if (bentofileText !== undefined) writeFileSync(file, bentofileText);
  return buildBento({ bentofile: loadBentofile(file), compiler, home: homeDir });
}

describe("bentoc build", () => {
  it("writes a complete build context with pinned models, locked dependencies and only serving files", async () => {
    const dir = sample.dir;
    mkdirSync(join(dir, "data", "scratch"), { recursive: true });
    mkdirSync(join(dir, "node_modules", "left-pad"), { recursive: true });
    writeFileSync(join(dir, "data", "labels.json"), '["billing","bug","account","other"]\n');
    writeFileSync(join(dir, "data", "labels.test.ts"), "// a dev-only test\n");
    writeFileSync(join(dir, "data", "scratch", "notes.txt"), "dev notes\n");
    writeFileSync(join(dir, "data", "explore.ipynb"), "{}\n");
    writeFileSync(join(dir, "node_modules", "left-pad", "index.js"), "module.exports = 1\n");
    writeFileSync(join(dir, ".bentoignore"), "# dev scratch\nscratch/\n");
    const text = `${readFileSync(join(dir, "bentofile.yaml"), "utf8")}include:\n  - 'data/**'\n  - 'node_modules/**'\n`;
    const { bento, created } = await build(home.home, text);
    expect(created).toBe(true);
    const files = bento.files.map((f) => f.path);
    expect(files).toContain("data/labels.json");
    for (const devOnly of [
      "data/labels.test.ts",
      "data/scratch/notes.txt",
      "data/explore.ipynb",
      "node_modules/left-pad/index.js",
      "service.ts",
      "bentofile.yaml",
    ]) {
      expect(files).not.toContain(devOnly);
      expect(existsSync(join(bento.path, devOnly))).toBe(false);
    }
    expect(files).toEqual(
      expect.arrayContaining(["bento.json", "service.mjs", "openapi.json", "package.json", "package-lock.json", "Containerfile", "bentoc-0.1.0.tgz"]),
    );

    // models pinned to the exact stored versions (the classifier and the encoder), carried in store layout
    const classifier = await new ModelStore(home.home).get("support-tickets-classifier:latest");
    const encoder = await new ModelStore(home.home).get("support-tickets-minilm:latest");
    expect(bento.models).toEqual([classifier.tag, encoder.tag]);
    const manifest = JSON.parse(readFileSync(join(bento.path, "bento.json"), "utf8")) as {
      runners: { name: string; model: string }[];
      service: { labels: Record<string, string> };
    };
    expect(manifest.runners.map((r) => [r.name, r.model])).toEqual([
      ["classifier", classifier.tag],
      ["embedding", encoder.tag],
    ]);
    expect(manifest.service.labels).toMatchObject({ owner: "support-platform" });
    for (const stored of [classifier, encoder]) {
      const carried = await new ModelStore(join(bento.path, "models")).get(stored.tag);
      expect(carried.files).toEqual(stored.files);
    }

    // dependencies: bentoc from the packed tarball, exact versions from the project lock, no dev entries
    const pkg = JSON.parse(readFileSync(join(bento.path, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ bentoc: "file:./bentoc-0.1.0.tgz", "onnxruntime-node": "1.30.0" });
    const lock = JSON.parse(readFileSync(join(bento.path, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; dev?: boolean; integrity?: string }>;
    };
    const tgz = readFileSync(join(bento.path, "bentoc-0.1.0.tgz"));
    expect(lock.packages["node_modules/bentoc"]?.integrity).toBe(`sha512-${createHash("sha512").update(tgz).digest("base64")}`);
    expect(lock.packages["node_modules/onnxruntime-node"]?.version).toBe("1.30.0");
    expect(lock.packages["node_modules/vitest"]).toBeUndefined();
    expect(Object.values(lock.packages).some((p) => p.dev)).toBe(false);

    // the Containerfile copies the data file with the code and the tarball with the dependencies
    const containerfile = readFileSync(join(bento.path, "Containerfile"), "utf8");
    expect(containerfile).toContain("COPY package.json package-lock.json bentoc-0.1.0.tgz /bento/");
    expect(containerfile).toContain("COPY data/labels.json /bento/data/labels.json");
    expect(containerfile).toContain("ENV NODE_ENV=production \\\n    BENTOC_HOME=/bento/models \\\n    BENTOC_LOG_LEVEL=info");

    // every overlay runs the image `bentoc containerize` tags by default: <bento name>:<version>, recorded with its hash
    for (const overlay of ["monolith", "split", "canary"]) {
      const kustomization = readFileSync(join(bento.path, "k8s", "overlays", overlay, "kustomization.yaml"), "utf8");
      expect(kustomization).toContain(`newName: ${bento.name}\n`);
      expect(kustomization).toContain(`newTag: ${bento.version}\n`);
      const entry = bento.files.find((f) => f.path === `k8s/overlays/${overlay}/kustomization.yaml`);
      expect(entry?.sha256).toBe(createHash("sha256").update(kustomization).digest("hex"));
    }
  });

  it("derives the version from the content: same sources, same version and bytes; one changed line, a new version", async () => {
    const first = await build(home.home);
    const again = await build(home.home);
    expect(again.created).toBe(false);
    expect(again.bento.tag).toBe(first.bento.tag);
    const other = mkdtempSync(join(tmpdir(), "bentoc-home-b-"));
    try {
      // a different store holding the same models: the same version and identical bytes
      for (const name of ["support-tickets-minilm", "support-tickets-classifier"]) {
        const model = await new ModelStore(home.home).get(`${name}:latest`);
        await new ModelStore(home.home).exportModel(model.tag, join(scratch, `${name}.tar.gz`));
        await new ModelStore(other).importModel(join(scratch, `${name}.tar.gz`));
      }
      const elsewhere = await build(other);
      expect(elsewhere.bento.tag).toBe(first.bento.tag);
      expect(await digest(elsewhere.bento.path)).toEqual(await digest(first.bento.path));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    const service = join(sample.dir, "service.ts");
    const source = readFileSync(service, "utf8");
    writeFileSync(service, source.replace("/** Classify a ticket sent as plain text. */", "/** Classify a ticket sent as plain text (one line changed). */"));
    try {
      const changed = await build(home.home);
      expect(changed.created).toBe(true);
      expect(changed.bento.version).not.toBe(first.bento.version);
      expect(resolveBentoPath("support-tickets", home.home)).toBe(changed.bento.path);
      expect(resolveBentoPath("support-tickets:latest", home.home)).toBe(changed.bento.path);
      expect(resolveBentoPath(first.bento.tag, home.home)).toBe(first.bento.path);
      expect(resolveBentoPath("support-tickets:0000000000000000", home.home)).toBeNull();
      expect(resolveBentoPath("../etc", home.home)).toBeNull();
    } finally {
      writeFileSync(service, source);
    }
  });

  it("refuses a service whose models are not in the store with BC1026 at each runner's model option, before any copying", async () => {
    const empty = mkdtempSync(join(tmpdir(), "bentoc-home-empty-"));
    try {
      const failed = build(empty);
      await expect(failed).rejects.toThrow(
        /service\.ts:\d+:\d+ - error BC1026: Model 'support-tickets-minilm:latest' of runner embedding is not in the model store/,
      );
      await expect(failed).rejects.toThrow(/error BC1026: Model 'support-tickets-classifier:latest' of runner classifier .*The store is empty\./);
      await expect(failed).rejects.toThrow(/hint: Save or import it first/);
      await expect(failed).rejects.toThrow(/compilation failed: no bento was built/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("refuses a bentofile whose models leave out a model the runners need", async () => {
    const text = readFileSync(join(sample.dir, "bentofile.yaml"), "utf8");
    await expect(build(home.home, `${text}models: []\n`)).rejects.toThrow(/runners need support-tickets-classifier:latest, support-tickets-minilm:latest/);
    writeFileSync(join(sample.dir, "bentofile.yaml"), text);
  });
});

describe("bento store", () => {
  it("lists, gets, exports, deletes and imports (with its models, into an empty store)", async () => {
    const store = new BentoStore(home.home);
    const { bento } = await build(home.home);
    const listed = await store.list();
    expect(listed.map((b) => b.tag)).toContain(bento.tag);
    const env = { BENTOC_HOME: home.home };
    const table = bentoc(["list"], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${bento.tag.replace(/[.:]/g, "\\$&")}\\s+support-tickets 1\\.0\\.0`, "m"));
    expect(JSON.parse(bentoc(["list", "-o", "json"], env).stdout).length).toBe(listed.length);
    expect(bentoc(["get", bento.tag, "-o", "path"], env).stdout.trim()).toBe(bento.path);
    const missing = bentoc(["get", "nope"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/bento nope not found/);

    const archive = join(scratch, "bento.tar.gz");
    expect(bentoc(["export", bento.tag, archive], env).code).toBe(0);

    const fresh = mkdtempSync(join(tmpdir(), "bentoc-home-import-"));
    try {
      const imported = bentoc(["import", archive], { BENTOC_HOME: fresh });
      expect(imported.stderr).toBe("");
      expect(imported.stdout).toContain(`imported ${bento.tag}; models added: ${bento.models[0]}`);
      const copy = await new BentoStore(fresh).get(bento.tag);
      expect(await digest(copy.path)).toEqual(await digest(bento.path));
      expect((await new ModelStore(fresh).get(bento.models[0]!)).tag).toBe(bento.models[0]);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }

    expect(bentoc(["delete", bento.tag], env).stdout).toBe(`deleted ${bento.tag}\n`);
    expect(existsSync(bento.path)).toBe(false);
    expect((await importBento(store, archive)).created).toBe(true);
    expect(existsSync(bento.path)).toBe(true);
  });

  it("rejects archives with traversal, links, altered files or unlisted entries", async () => {
    const store = new BentoStore(home.home);
    const { bento } = await build(home.home);
    const good = join(scratch, "good.tar.gz");
    await exportBento(store, bento.tag, good);
    const src = join(scratch, "hostile");
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    await import("tar").then((t) => t.extract({ file: good, cwd: src }));
    const target = mkdtempSync(join(tmpdir(), "bentoc-home-hostile-"));
    const hostile = new BentoStore(target);
    try {
      const make = async (name: string, entries: string[], opts: { preservePaths?: boolean } = {}) => {
        const f = join(scratch, name);
        await create({ gzip: true, file: f, cwd: src, ...opts }, entries);
        return f;
      };
      const all = ["bento.yaml", ...bento.files.map((f) => f.path)];
      writeFileSync(join(scratch, "evil.txt"), "x");
      const traversal = await make("traversal.tar.gz", [...all, "../evil.txt"], { preservePaths: true });
      await expect(importBento(hostile, traversal)).rejects.toThrow(/path with '\.\.'/);
      writeFileSync(join(src, "extra.txt"), "not listed\n");
      await expect(importBento(hostile, await make("extra.tar.gz", [...all, "extra.txt"]))).rejects.toThrow(
        /unexpected entry extra\.txt: the record does not list it/,
      );
      rmSync(join(src, "extra.txt"));
      writeFileSync(join(src, "bento.json"), readFileSync(join(src, "bento.json"), "utf8").replace("support-tickets", "support-tickets-x"));
      await expect(importBento(hostile, await make("altered.tar.gz", all))).rejects.toThrow(/bento\.json declares \d+ bytes, its record says \d+/);
      expect(await hostile.list()).toEqual([]);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});

describe("the version seals every file, k8s/ included", () => {
  /** Edits a k8s file of a bento copy and brings its record up to date (size and sha256), as an attacker would. */
  function tamper(dir: string, edit: (yaml: string) => string): string {
    const rel = "k8s/base/deployment.yaml";
    const file = join(dir, ...rel.split("/"));
    const text = edit(readFileSync(file, "utf8"));
    writeFileSync(file, text);
    const recordFile = join(dir, "bento.yaml");
    const record = readFileSync(recordFile, "utf8");
    const entry = new RegExp(`(- path: ${rel.replace(/[./]/g, "\\$&")}\\n\\s+size: )\\d+(\\n\\s+sha256: )[0-9a-f]{64}`);
    expect(entry.test(record)).toBe(true);
    writeFileSync(recordFile, record.replace(entry, `$1${Buffer.byteLength(text)}$2${createHash("sha256").update(text).digest("hex")}`));
    return text;
  }

  it("an edited Deployment (another image, runAsNonRoot: false) under the original tag is refused on import and on serve", async () => {
    const store = new BentoStore(home.home);
    const { bento } = await build(home.home);
    await store.verify(bento); // genuine: fine
    const deployment = readFileSync(join(bento.path, "k8s", "base", "deployment.yaml"), "utf8");
    expect(deployment).toContain("runAsNonRoot: true");

    // Import: the archive of an edited copy with a consistent record.
    const src = join(scratch, "tampered");
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    const good = join(scratch, "sealed.tar.gz");
    await exportBento(store, bento.tag, good);
    await import("tar").then((t) => t.extract({ file: good, cwd: src }));
    tamper(src, (y) => y.replace("runAsNonRoot: true", "runAsNonRoot: false"));
    const archive = join(scratch, "tampered.tar.gz");
    await create({ gzip: true, file: archive, cwd: src }, ["bento.yaml", ...bento.files.map((f) => f.path)]);
    const target = mkdtempSync(join(tmpdir(), "bentoc-home-sealed-"));
    try {
      await expect(importBento(new BentoStore(target), archive)).rejects.toThrow(/does not match its content .*a file was changed after the bento was built/);
      expect(await new BentoStore(target).list()).toEqual([]);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }

    // Serve: the same edit made in the store itself.
    const original = readFileSync(join(bento.path, "bento.yaml"), "utf8");
    tamper(bento.path, (y) => y.replace(/image: \S+/, "image: registry.evil.example/miner:latest"));
    try {
      const served = bentoc(["serve", bento.tag, "--port", "0"], { BENTOC_HOME: home.home });
      expect(served.code).toBe(1);
      expect(served.stderr).toMatch(new RegExp(`bento ${bento.tag.replace(/[.:]/g, "\\$&")} is corrupted: its version .* does not match its content`));
    } finally {
      writeFileSync(join(bento.path, "k8s", "base", "deployment.yaml"), deployment);
      writeFileSync(join(bento.path, "bento.yaml"), original);
    }
    await store.verify(bento);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

describe("bentoc serve TAG", () => {
  it("serves a bento from the store by name and classifies with its pinned model", async () => {
    const { bento } = await build(home.home);
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, "serve", bento.name, "--port", String(port), "--host", "127.0.0.1"], {
      env: { ...process.env, BENTOC_HOME: home.home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    try {
      let ready = 0;
      for (let i = 0; i < 600 && ready !== 200; i++) {
        if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}):\n${output}`);
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(200);
      const res = await fetch(`http://127.0.0.1:${port}/classify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ texts: ["My invoice is wrong", "cannot log in"] }),
      });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as { results: { label: string; score: number; scores: Record<string, number> }[] };
      expect(results).toHaveLength(2);
      for (const r of results) {
        expect(["billing", "bug", "account", "other"]).toContain(r.label);
        expect(r.score).toBe(r.scores[r.label]);
        expect(Object.values(r.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("close", r));
    }
  });
});
