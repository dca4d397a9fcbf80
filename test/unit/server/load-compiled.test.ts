/**
 * Loading a compiled directory checks `bento.json` against the contract's schema before anything reads
 * it: a hand-edited manifest with a missing or mistyped field fails with one message naming the file and
 * the field, and a valid one loads with the bundle it names.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManifestError } from "../../../contract/manifest-check.ts";
import { loadCompiledDir } from "../../../runtime/server/load-compiled.ts";
import { echoManifest } from "../../fixtures/runtime/echo-manifest.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A compiled dir whose manifest is the echo fixture's after `edit`, and a bundle exporting its class. */
function compiledDir(edit: (manifest: Record<string, any>) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), "bentoc-load-"));
  dirs.push(dir);
  const manifest = echoManifest() as unknown as Record<string, any>;
  edit(manifest);
  writeFileSync(join(dir, "bento.json"), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, "openapi.json"), "{}");
  writeFileSync(join(dir, "service.mjs"), "export class Echo { loadedFrom = 'service.mjs'; }\n");
  return dir;
}

describe("loadCompiledDir", () => {
  it("loads a valid manifest and the bundle it names", async () => {
    const dir = compiledDir();
    const loaded = await loadCompiledDir(dir);
    expect(loaded.manifest).toEqual(echoManifest());
    expect(typeof loaded.module["Echo"]).toBe("function");
  });

  it("refuses a manifest with a missing required field, naming the file and the field", async () => {
    const dir = compiledDir((m) => delete m["service"].apis[0].route);
    const err = await loadCompiledDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).toBe(`${join(dir, "bento.json")}: /service/apis/0/route: missing required field`);
  });

  it("refuses a missing bundle name instead of guessing one", async () => {
    const dir = compiledDir((m) => delete m["entry"].bundle);
    await expect(loadCompiledDir(dir)).rejects.toThrow(`${join(dir, "bento.json")}: /entry/bundle: missing required field`);
  });

  it("refuses a field of the wrong type", async () => {
    const dir = compiledDir((m) => (m["service"].traffic.timeoutMs = "60s"));
    await expect(loadCompiledDir(dir)).rejects.toThrow(`${join(dir, "bento.json")}: /service/traffic/timeoutMs: must be number`);
  });

  it("says when bento.json is missing or not JSON", async () => {
    const dir = compiledDir();
    writeFileSync(join(dir, "bento.json"), '{"schemaVersion": 3,');
    await expect(loadCompiledDir(dir)).rejects.toThrow(`${join(dir, "bento.json")}: not JSON`);
    rmSync(join(dir, "bento.json"));
    await expect(loadCompiledDir(dir)).rejects.toThrow(`cannot read ${join(dir, "bento.json")}`);
  });
});
