/**
 * Reads a compiled directory: `bento.json` (the manifest, checked against the contract's JSON Schema so
 * that a hand-edited or stale one fails here, naming the field), `openapi.json` and the bundle it names.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseManifest } from "../../contract/manifest-check.ts";
import { MANIFEST_FILE, OPENAPI_FILE } from "../../contract/output-files.ts";
import type { Manifest } from "../../sdk/manifest.ts";

export interface CompiledService {
  dir: string;
  manifest: Manifest;
  module: Record<string, unknown>;
  openapi: string;
}

let loads = 0;

/** The checked manifest of a compiled directory; throws `ManifestError` (or a read error) naming the file. */
export async function readCompiledManifest(dir: string): Promise<Manifest> {
  const file = join(resolve(dir), MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseManifest(text, file);
}

export async function loadCompiledDir(dir: string): Promise<CompiledService> {
  const abs = resolve(dir);
  const manifest = await readCompiledManifest(abs);
  const openapi = await readFile(join(abs, OPENAPI_FILE), "utf8").catch(() => "{}");
  const bundle = join(abs, manifest.entry.bundle);
  // A query string makes each reload a new module instance.
  const module = (await import(`${pathToFileURL(bundle).href}?v=${Date.now()}-${++loads}`)) as Record<string, unknown>;
  return { dir: abs, manifest, module, openapi };
}
