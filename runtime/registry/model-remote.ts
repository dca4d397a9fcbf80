/**
 * `bentoc models push TAG REF` / `bentoc models pull REF` / `bentoc models list --remote REF`: a model of the
 * local store as an OCI artifact in a registry repository (runtime/registry/oci-artifact.ts). The tag
 * pushed defaults to the model's version, so `REF` can be just the repository. A pulled model is written
 * to `$BENTOC_HOME/.tmp/`, checked blob by blob against its digest and its record, and renamed into the
 * store under its tag; a failure leaves nothing in the store.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { verifyFiles } from "../models/file-hash.ts";
import { type ModelRecord, RECORD_FILE, recordProblem, type StoredModel } from "../models/model-record.ts";
import { checkEntryPath, type ModelStore } from "../models/model-store.ts";
import { ModelStoreError } from "../models/model-store-error.ts";
import { parseTag } from "../models/model-tag.ts";
import { type PushResult, pullArtifact, pushArtifact, type TransferListener } from "./artifact-transfer.ts";
import { formatReference, type ImageReference, parseReference } from "./image-reference.ts";
import { buildManifest, MODEL_ARTIFACT } from "./oci-artifact.ts";
import { RegistryClient, type RegistryClientOptions, sha256Digest } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";

export interface RemoteOptions extends RegistryClientOptions {
  onEvent?: TransferListener;
}

export interface PushedModel extends PushResult {
  model: StoredModel;
  /** `registry/repository:tag`. */
  reference: string;
  /** `registry/repository@sha256:…`: what to pull to get exactly this. */
  pinned: string;
}

/** Annotations of a model's manifest: its identity, labels, metadata and signatures. */
export function modelAnnotations(record: ModelRecord): Record<string, string> {
  return {
    "dev.bentoc.kind": "model",
    "dev.bentoc.tag": record.tag,
    "dev.bentoc.model.file": record.modelFile,
    "dev.bentoc.labels": JSON.stringify(record.labels),
    "dev.bentoc.metadata": JSON.stringify(record.metadata),
    "dev.bentoc.signatures": JSON.stringify(record.signatures),
    "org.opencontainers.image.created": record.creationTime,
    "org.opencontainers.image.title": record.name,
    "org.opencontainers.image.version": record.version,
  };
}

/**
 * The digest `bentoc models push` gives this model's manifest, computed offline from its record bytes
 * (model.json as stored): the manifest is a deterministic function of them, so a deployment can name the
 * model by digest (`bentoc k8s --models-from`) without asking the registry.
 */
export function modelManifestDigest(recordBytes: Buffer): string {
  const record = parseModelRecord(recordBytes);
  return sha256Digest(buildManifest(MODEL_ARTIFACT, recordBytes, record.files, modelAnnotations(record)));
}

/** Parses REF for a push: a digest is refused (a push names a tag); a missing tag becomes `defaultTag`. */
export function pushReference(ref: string, defaultTag: string): ImageReference & { tag: string } {
  const parsed = parseReference(ref);
  if (parsed.digest !== undefined) throw new RegistryError("INVALID_REFERENCE", `push to a tag, not a digest: ${ref} (the digest is what the push prints)`);
  return { ...parsed, tag: parsed.tag ?? defaultTag };
}

/** Parses REF for a pull: it must name a tag or a digest. */
export function pullReference(ref: string): ImageReference & { reference: string } {
  const parsed = parseReference(ref);
  const reference = parsed.digest ?? parsed.tag;
  if (reference === undefined)
    throw new RegistryError(
      "INVALID_REFERENCE",
      `${ref} names no tag or digest: add :TAG or @sha256:… (\`bentoc models list --remote ${ref}\` lists the tags)`,
    );
  return { ...parsed, reference };
}

export function clientFor(ref: ImageReference, options: RegistryClientOptions): RegistryClient {
  return new RegistryClient(ref.registry, ref.repository, options);
}

export async function pushModel(store: ModelStore, tag: string, ref: string, options: RemoteOptions = {}): Promise<PushedModel> {
  const model = await store.get(tag);
  const target = pushReference(ref, model.version);
  const client = clientFor(target, options);
  try {
    await verifyFiles(model.tag, model.path, model.files); // corruption does not travel
    const record = await readFile(join(model.path, RECORD_FILE));
    const files = model.files.map((f) => ({ ...f, source: join(model.path, ...f.path.split("/")) }));
    const result = await pushArtifact(client, MODEL_ARTIFACT, target.tag, record, files, modelAnnotations(model), options.onEvent);
    return {
      ...result,
      model,
      reference: formatReference({ registry: target.registry, repository: target.repository, tag: target.tag }),
      pinned: `${target.registry}/${target.repository}@${result.digest}`,
    };
  } finally {
    client.close();
  }
}

export interface PulledModel {
  model: StoredModel;
  /** False when the store had this exact model already. */
  created: boolean;
  digest: string;
}

/** Parses and checks a pulled model.json. */
export function parseModelRecord(bytes: Buffer): ModelRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
  const problem = recordProblem(parsed);
  if (problem) throw new Error(problem);
  const record = parsed as ModelRecord;
  parseTag(record.tag);
  for (const f of record.files) checkEntryPath(f.path);
  return record;
}

function sameFiles(a: ModelRecord, b: ModelRecord): boolean {
  const key = (r: ModelRecord) => JSON.stringify([...r.files].sort((x, y) => (x.path < y.path ? -1 : 1)).map((f) => [f.path, f.size, f.sha256]));
  return key(a) === key(b);
}

export async function pullModel(store: ModelStore, ref: string, options: RemoteOptions = {}): Promise<PulledModel> {
  const source = pullReference(ref);
  const client = clientFor(source, options);
  const tmp = await store.tempDir("pull");
  try {
    let existing: StoredModel | undefined;
    const pulled = await pullArtifact(
      client,
      MODEL_ARTIFACT,
      source.reference,
      ref,
      tmp,
      async (bytes) => {
        const record = parseModelRecord(bytes);
        existing = await store.get(record.tag).catch((err: unknown) => {
          if (err instanceof ModelStoreError && err.code === "NOT_FOUND") return undefined;
          throw err;
        });
        if (existing && !sameFiles(existing, record)) {
          throw new ModelStoreError(
            "EXISTS",
            `model ${record.tag} already exists in ${store.home} with other files than ${ref}; delete it first to replace it`,
          );
        }
        return { record, files: existing ? null : record.files };
      },
      options.onEvent,
    );
    if (!pulled.downloaded && existing) return { model: existing, created: false, digest: pulled.digest };
    const model = await store.installPrepared(tmp, pulled.record);
    return { model, created: true, digest: pulled.digest };
  } finally {
    client.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The tags of a repository (REF without tag or digest). */
export async function listRemoteTags(ref: string, options: RegistryClientOptions & { pageSize?: number } = {}): Promise<string[]> {
  const parsed = parseReference(ref);
  if (parsed.tag !== undefined || parsed.digest !== undefined)
    throw new RegistryError("INVALID_REFERENCE", `--remote takes a repository without tag or digest, not ${ref}`);
  const client = clientFor(parsed, options);
  try {
    return await client.listTags(options.pageSize);
  } finally {
    client.close();
  }
}
