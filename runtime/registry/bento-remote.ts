/**
 * `bentoc push TAG REF` / `bentoc pull REF`: a bento as an OCI artifact (runtime/registry/oci-artifact.ts),
 * the models it carries included as file layers. Pushing verifies the bento whole first; each model file is
 * offered to the registry as a mount from the sibling repository named after the model
 * (`host/team/support-tickets` → `host/team/<model name>`), where `bentoc models push` would have put it, so
 * a bento pushed after its model uploads only its own files. A pulled bento must pass the bento seal
 * (every file's sha256 and the version sealed over them, bento/bento-store.ts) before it is
 * installed; its models join the model store as an imported bento's do.
 */
import { readFile, rm } from "node:fs/promises";
import { join, posix } from "node:path";
import { checkBentoTag, type ImportResult, installCheckedBento } from "../../bento/bento-archive.ts";
import { BENTO_RECORD, type BentoRecord, parseRecord } from "../../bento/bento-record.ts";
import { type BentoStore, BentoStoreError, resolveBentoPath, type StoredBento } from "../../bento/bento-store.ts";
import { type PushFile, type PushResult, pullArtifact, pushArtifact } from "./artifact-transfer.ts";
import { formatReference } from "./image-reference.ts";
import { clientFor, pullReference, pushReference, type RemoteOptions } from "./model-remote.ts";
import { BENTO_ARTIFACT } from "./oci-artifact.ts";

export interface PushedBento extends PushResult {
  bento: StoredBento;
  reference: string;
  pinned: string;
}

export function bentoAnnotations(record: BentoRecord): Record<string, string> {
  return {
    "dev.bentoc.kind": "bento",
    "dev.bentoc.tag": record.tag,
    "dev.bentoc.service": `${record.service.name} ${record.service.version}`,
    "dev.bentoc.models": JSON.stringify(record.models),
    "dev.bentoc.labels": JSON.stringify(record.labels),
    "org.opencontainers.image.title": record.name,
    "org.opencontainers.image.version": record.version,
    ...(record.description !== undefined ? { "org.opencontainers.image.description": record.description.slice(0, 1024) } : {}),
  };
}

/** The repository a carried model's files may be mounted from: the model's name beside the bento's. */
export function siblingRepository(repository: string, modelName: string): string {
  const parent = posix.dirname(repository);
  return parent === "." ? modelName : `${parent}/${modelName}`;
}

export async function pushBento(store: BentoStore, tag: string, ref: string, options: RemoteOptions = {}): Promise<PushedBento> {
  const bento = await store.get(tag);
  const target = pushReference(ref, bento.version);
  const client = clientFor(target, options);
  try {
    await store.verify(bento);
    const record = await readFile(join(bento.path, BENTO_RECORD));
    const files: PushFile[] = bento.files.map((f) => {
      const model = /^models\/models\/([^/]+)\/[^/]+\//.exec(f.path)?.[1];
      const mountFrom = model !== undefined ? siblingRepository(target.repository, model) : undefined;
      return { ...f, source: join(bento.path, ...f.path.split("/")), ...(mountFrom !== undefined && mountFrom !== target.repository ? { mountFrom } : {}) };
    });
    const result = await pushArtifact(client, BENTO_ARTIFACT, target.tag, record, files, bentoAnnotations(bento), options.onEvent);
    return {
      ...result,
      bento,
      reference: formatReference({ registry: target.registry, repository: target.repository, tag: target.tag }),
      pinned: `${target.registry}/${target.repository}@${result.digest}`,
    };
  } finally {
    client.close();
  }
}

export interface PulledBento extends ImportResult {
  digest: string;
}

export async function pullBento(store: BentoStore, ref: string, options: RemoteOptions = {}): Promise<PulledBento> {
  const source = pullReference(ref);
  const client = clientFor(source, options);
  const tmp = await store.tempDir("bento-pull");
  try {
    const pulled = await pullArtifact(
      client,
      BENTO_ARTIFACT,
      source.reference,
      ref,
      tmp,
      async (bytes) => {
        const record = parseRecord(bytes.toString("utf8"), ref);
        checkBentoTag(record.name, record.version);
        const have = resolveBentoPath(record.tag, store.home) !== null;
        return { record, files: have ? null : record.files };
      },
      options.onEvent,
    );
    if (!pulled.downloaded) {
      // the store has this version (same content by its seal): mark it newest, as a rebuild does
      if (resolveBentoPath(pulled.record.tag, store.home) === null)
        throw new BentoStoreError("NOT_FOUND", `bento ${pulled.record.tag} was deleted during the pull of ${ref}; pull again`);
      const { bento } = await store.install(tmp, pulled.record);
      return { bento, created: false, modelsImported: [], digest: pulled.digest };
    }
    const result = await installCheckedBento(store, tmp, pulled.record, (why) => new BentoStoreError("CORRUPT", `refusing ${ref}: ${why}`));
    return { ...result, digest: pulled.digest };
  } finally {
    client.close();
    await rm(tmp, { recursive: true, force: true });
  }
}
