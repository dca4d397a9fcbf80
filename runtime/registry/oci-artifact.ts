/**
 * How a model or a bento is laid out as an OCI artifact (image-spec 1.1 "artifacts" guidance): an image
 * manifest with an `artifactType`, the empty config (`application/vnd.oci.empty.v1+json`, `{}`), and one
 * layer per file, uncompressed, each named by its `org.opencontainers.image.title` annotation:
 *
 *   layer 0    the record, byte for byte as in the store (`model.json` / `bento.yaml`)
 *   layer 1…   every file the record lists, sorted by path; the layer digest is `sha256:` + the record's
 *              sha256 of the file, so content addressing and the record's integrity are one thing
 *
 * One layer per file (rather than one tar) means a file shared by two versions, or by a model and the bento
 * that carries it, is one blob in the registry: a new version uploads only what changed, and a bento's
 * model files can be mounted from the model's repository. `oras pull` writes the layers out as the store's
 * directory. The manifest's annotations carry the record's identity, labels, metadata and signatures for
 * tools that read only manifests (`skopeo inspect`, `oras manifest fetch`). The manifest is serialised
 * deterministically, so the same content always has the same digest.
 */
import { posix } from "node:path";
import { entryProblem } from "../archive/safe-extract.ts";
import { OCI_MANIFEST, sha256Digest } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";

export const EMPTY_CONFIG = { mediaType: "application/vnd.oci.empty.v1+json", bytes: Buffer.from("{}") } as const;
export const FILE_MEDIA_TYPE = "application/vnd.bentoc.file.v1";
export const TITLE = "org.opencontainers.image.title";

export interface ArtifactKind {
  noun: "model" | "bento";
  artifactType: string;
  recordMediaType: string;
  recordPath: string;
  /** The command that pulls this kind, for "use … instead" errors. */
  pullCommand: string;
}

export const MODEL_ARTIFACT: ArtifactKind = {
  noun: "model",
  artifactType: "application/vnd.bentoc.model.v1",
  recordMediaType: "application/vnd.bentoc.model.record.v1+json",
  recordPath: "model.json",
  pullCommand: "bentoc models pull",
};

export const BENTO_ARTIFACT: ArtifactKind = {
  noun: "bento",
  artifactType: "application/vnd.bentoc.bento.v1",
  recordMediaType: "application/vnd.bentoc.bento.record.v1+yaml",
  recordPath: "bento.yaml",
  pullCommand: "bentoc pull",
};

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ArtifactFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ArtifactManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
}

function byPath(a: ArtifactFile, b: ArtifactFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The manifest's bytes (compact JSON, fixed key order) for a record and its files. */
export function buildManifest(kind: ArtifactKind, record: Buffer, files: readonly ArtifactFile[], annotations: Record<string, string>): Buffer {
  const manifest: ArtifactManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: kind.artifactType,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: sha256Digest(EMPTY_CONFIG.bytes), size: EMPTY_CONFIG.bytes.byteLength },
    layers: [
      { mediaType: kind.recordMediaType, digest: sha256Digest(record), size: record.byteLength, annotations: { [TITLE]: kind.recordPath } },
      ...[...files].sort(byPath).map((f) => ({ mediaType: FILE_MEDIA_TYPE, digest: `sha256:${f.sha256}`, size: f.size, annotations: { [TITLE]: f.path } })),
    ],
    annotations: Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return Buffer.from(JSON.stringify(manifest));
}

export interface ParsedArtifact {
  manifest: ArtifactManifest;
  record: Descriptor;
  /** The file layers by path. */
  files: Map<string, Descriptor>;
}

const OTHER_KINDS = [MODEL_ARTIFACT, BENTO_ARTIFACT];

/** Parses a pulled manifest as an artifact of `kind`; throws INVALID_ARTIFACT saying what is wrong. */
export function parseArtifactManifest(bytes: Buffer, kind: ArtifactKind, ref: string): ParsedArtifact {
  const bad = (why: string) => new RegistryError("INVALID_ARTIFACT", `${ref} is not a bentoc ${kind.noun}: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw bad("its manifest is not JSON");
  }
  const m = value as Partial<ArtifactManifest> & { manifests?: unknown };
  if (!m || typeof m !== "object") throw bad("its manifest is not an object");
  if (Array.isArray(m.manifests)) throw bad("it is an image index (a multi-platform image?)");
  if (m.schemaVersion !== 2 || (m.mediaType !== undefined && m.mediaType !== OCI_MANIFEST))
    throw bad(`its manifest is ${String(m.mediaType ?? "of an unknown type")}, not an OCI image manifest`);
  if (m.artifactType !== kind.artifactType) {
    const other = OTHER_KINDS.find((k) => k.artifactType === m.artifactType);
    if (other) throw new RegistryError("INVALID_ARTIFACT", `${ref} holds a bentoc ${other.noun}, not a ${kind.noun}: pull it with \`${other.pullCommand}\``);
    throw bad(m.artifactType ? `its artifactType is ${m.artifactType}` : "it has no artifactType (a container image?)");
  }
  if (!Array.isArray(m.layers) || m.layers.length === 0) throw bad("it has no layers");
  const layers: Descriptor[] = m.layers.map((l, i) => {
    const d = l as Partial<Descriptor> | null;
    if (
      !d ||
      typeof d.mediaType !== "string" ||
      typeof d.digest !== "string" ||
      !/^sha256:[0-9a-f]{64}$/.test(d.digest) ||
      !Number.isSafeInteger(d.size) ||
      (d.size ?? -1) < 0
    ) {
      throw bad(`layer ${i} is not a valid sha256 descriptor`);
    }
    return d as Descriptor;
  });
  const [record, ...rest] = layers;
  if (!record || record.mediaType !== kind.recordMediaType || record.annotations?.[TITLE] !== kind.recordPath)
    throw bad(`its first layer is not the ${kind.recordPath} record`);
  const files = new Map<string, Descriptor>();
  for (const layer of rest) {
    const path = layer.annotations?.[TITLE];
    if (layer.mediaType !== FILE_MEDIA_TYPE || typeof path !== "string") throw bad(`layer ${layer.digest} is not a bentoc file layer`);
    const problem = entryProblem(path, "File");
    if (problem || posix.normalize(path) !== path || path === kind.recordPath) throw bad(`layer ${layer.digest} has an unsafe path ${JSON.stringify(path)}`);
    if (files.has(path)) throw bad(`two layers are named ${path}`);
    files.set(path, layer);
  }
  return { manifest: m as ArtifactManifest, record, files };
}

/** Checks that the layers are exactly the record's files, with the record's sizes and sha256s. */
export function checkLayersMatchRecord(parsed: ParsedArtifact, files: readonly ArtifactFile[], ref: string): void {
  const bad = (why: string) => new RegistryError("INVALID_ARTIFACT", `${ref}: its layers do not match its record: ${why}`);
  const listed = new Set<string>();
  for (const f of files) {
    listed.add(f.path);
    const layer = parsed.files.get(f.path);
    if (!layer) throw bad(`file ${f.path} has no layer`);
    if (layer.digest !== `sha256:${f.sha256}`) throw bad(`file ${f.path} has layer ${layer.digest}, the record says sha256:${f.sha256}`);
    if (layer.size !== f.size) throw bad(`file ${f.path} has a ${layer.size}-byte layer, the record says ${f.size} bytes`);
  }
  const extra = [...parsed.files.keys()].filter((p) => !listed.has(p));
  if (extra.length > 0) throw bad(`layers the record does not list: ${extra.join(", ")}`);
}
