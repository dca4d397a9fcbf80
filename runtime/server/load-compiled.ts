/** Reads a compiled directory: `bento.json` (manifest), `openapi.json` and the bundle it names. */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BUNDLE_FILE, MANIFEST_FILE, OPENAPI_FILE } from "../../contract/output-files.ts";
import { MANIFEST_SCHEMA_VERSION, type Manifest } from "../../sdk/manifest.ts";

export interface CompiledService {
  dir: string;
  manifest: Manifest;
  module: Record<string, unknown>;
  openapi: string;
}

let loads = 0;

export async function loadCompiledDir(dir: string): Promise<CompiledService> {
  const abs = resolve(dir);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(abs, MANIFEST_FILE), "utf8")) as Manifest;
  } catch (err) {
    throw new Error(`cannot read ${join(abs, MANIFEST_FILE)}: ${(err as Error).message}`);
  }
  if (manifest.schemaVersion !== MANIFEST_SCHEMA_VERSION) {
    throw new Error(`${MANIFEST_FILE} has schemaVersion ${String(manifest.schemaVersion)}; this runtime reads ${MANIFEST_SCHEMA_VERSION}`);
  }
  const openapi = await readFile(join(abs, OPENAPI_FILE), "utf8").catch(() => "{}");
  const bundle = join(abs, manifest.entry?.bundle || BUNDLE_FILE);
  // A query string makes each reload a new module instance.
  const module = (await import(`${pathToFileURL(bundle).href}?v=${Date.now()}-${++loads}`)) as Record<string, unknown>;
  return { dir: abs, manifest, module, openapi };
}
