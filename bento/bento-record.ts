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
 * The version is sealed over every file of the bento. `k8s/` names the image `<name>:<version>`, so it
 * cannot be hashed as written: it is emitted with this placeholder where the version goes, hashed so, and
 * then the placeholder is replaced by the version. To check it, each k8s file has its version put back to
 * the placeholder (genuine files never contain the placeholder itself, which makes the mapping one-to-one):
 * an edited Deployment — another image, `runAsNonRoot: false` — changes the version and is refused.
 */
export const VERSION_PLACEHOLDER = "bentoc-version-placeholder";

const K8S_PREFIX = "k8s/";

/** Whether a bento file is derived from the version (and so sealed through the placeholder). */
export function namesVersion(path: string): boolean {
  return path.startsWith(K8S_PREFIX);
}

/** sha256 of a k8s file with its version replaced by the placeholder; undefined when it holds the placeholder. */
export function sealedSha256(text: string, version: string): string | undefined {
  if (text.includes(VERSION_PLACEHOLDER)) return undefined;
  return createHash("sha256").update(text.replaceAll(version, VERSION_PLACEHOLDER)).digest("hex");
}

/**
 * The version of a bento: 16 hex digits of sha256 over its name and every `path\0sha256\n`, sorted by
 * path, where a k8s file's sha256 is taken with the placeholder in place of the version (`sealed`, by
 * path). Never all digits (a tag YAML would read as a number): such a hash starts with `a` instead.
 */
export function contentVersion(name: string, files: readonly BentoFileEntry[], sealed: ReadonlyMap<string, string>): string {
  const hash = createHash("sha256").update(`bento ${name}\n`);
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const sha = namesVersion(f.path) ? sealed.get(f.path) : f.sha256;
    if (sha === undefined) throw new Error(`no sealed digest for ${f.path}`);
    hash.update(`${f.path}\0${sha}\n`);
  }
  const version = hash.digest("hex").slice(0, 16);
  return /^\d+$/.test(version) ? `a${version.slice(1)}` : version;
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
    if (!f || typeof f.path !== "string" || typeof f.size !== "number" || !/^[0-9a-f]{64}$/.test(String(f.sha256)))
      throw bad(`invalid file entry ${JSON.stringify(f)}`);
  }
  return r as BentoRecord;
}
