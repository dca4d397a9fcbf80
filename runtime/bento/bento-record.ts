/**
 * `bento.yaml`: what a bento is — name, content-derived version, labels, the exact model tags it carries,
 * its npm dependencies and every file with its sha256. It holds no timestamp, so rebuilding unchanged
 * sources gives identical bytes; "created" is the version directory's mtime.
 */
import { createHash } from "node:crypto";
import { parse, stringify } from "yaml";

export const BENTO_RECORD = "bento.yaml";

export interface BentoFileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface BentoRecord {
  schemaVersion: 1;
  /** `name:version`. */
  tag: string;
  name: string;
  version: string;
  description?: string;
  labels: Record<string, string>;
  service: { name: string; version: string; bundle: string };
  /** Exact model tags, sorted; their files are under `models/` (a model store root). */
  models: string[];
  /** Run-time npm dependencies as written to the bento's package.json. */
  packages: Record<string, string>;
  /** Built with: bentoc version and the Node major version. */
  creation: { bentoc: string; node: string };
  /** Every file of the bento except this record, sorted by path. */
  files: BentoFileEntry[];
}

/**
 * The version of a bento: the first 16 hex digits of sha256 over its name and every `path\0sha256\n`,
 * sorted by path. Same content, same version; one changed byte anywhere, a new one.
 */
/**
 * The version: a hash of the name and every file's path and sha256, except `k8s/`, which names the image
 * `<name>:<version>` and is derived from the (hashed) manifest and the version itself. Every file, k8s/
 * included, is still checked against its own sha256.
 */
export function contentVersion(name: string, files: readonly BentoFileEntry[]): string {
  const hash = createHash("sha256").update(`bento ${name}\n`);
  for (const f of [...files].filter((e) => !e.path.startsWith("k8s/")).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) hash.update(`${f.path}\0${f.sha256}\n`);
  return hash.digest("hex").slice(0, 16);
}

export function serializeRecord(record: BentoRecord): string {
  return stringify(record, { lineWidth: 0, sortMapEntries: false });
}

/** Parses and checks the shape of a bento.yaml; throws with the reason. */
export function parseRecord(text: string, where: string): BentoRecord {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    throw new Error(`${where}: unreadable ${BENTO_RECORD} (${(err as Error).message})`);
  }
  const r = value as Partial<BentoRecord> | null;
  const bad = (why: string) => new Error(`${where}: invalid ${BENTO_RECORD}: ${why}`);
  if (!r || typeof r !== "object") throw bad("not a mapping");
  if (r.schemaVersion !== 1) throw bad(`unsupported schemaVersion ${JSON.stringify(r.schemaVersion)}`);
  for (const k of ["tag", "name", "version"] as const) if (typeof r[k] !== "string") throw bad(`missing "${k}"`);
  if (r.tag !== `${r.name}:${r.version}`) throw bad(`"tag" does not match name and version`);
  if (!Array.isArray(r.files) || !Array.isArray(r.models)) throw bad(`"files" and "models" must be lists`);
  for (const f of r.files) {
    if (!f || typeof f.path !== "string" || typeof f.size !== "number" || !/^[0-9a-f]{64}$/.test(String(f.sha256))) throw bad(`invalid file entry ${JSON.stringify(f)}`);
  }
  return r as BentoRecord;
}
