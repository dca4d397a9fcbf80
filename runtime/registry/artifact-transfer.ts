/**
 * Pushing and pulling one artifact (runtime/registry/oci-artifact.ts) with a RegistryClient, for either
 * store.
 *
 * Push is idempotent and content-addressed: when the tag already names this exact manifest nothing is sent
 * but that one HEAD; otherwise each blob is HEADed first and sent only when the registry lacks it (a blob
 * another repository of the registry holds is mounted instead of uploaded, when the caller names one),
 * then the manifest is PUT.
 *
 * Pull checks the manifest's digest, reads the record layer, lets the store validate the record, checks the
 * layers are exactly the record's files, and streams each file into the caller's temporary directory while
 * hashing it: a blob whose bytes do not match its digest (and so the record) is refused.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DEFAULT_ARCHIVE_LIMITS } from "../archive/safe-extract.ts";
import { type ArtifactFile, type ArtifactKind, buildManifest, checkLayersMatchRecord, EMPTY_CONFIG, parseArtifactManifest } from "./oci-artifact.ts";
import { OCI_MANIFEST, type RegistryClient, sha256Digest } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";

/** What a transfer reports, file by file: for progress lines. */
export type TransferEvent =
  | { type: "start"; path: string; size: number }
  | { type: "bytes"; path: string; bytes: number }
  | { type: "done"; path: string; size: number; outcome: "uploaded" | "exists" | "mounted" | "downloaded"; ms: number };

export type TransferListener = (event: TransferEvent) => void;

export interface PushFile extends ArtifactFile {
  /** Absolute path of the file on disk. */
  source: string;
  /** A repository of the same registry that may hold this blob already (mounted rather than uploaded). */
  mountFrom?: string;
}

export interface PushResult {
  /** The manifest's digest. */
  digest: string;
  /** True when the tag already named this manifest (nothing was sent). */
  unchanged: boolean;
  uploaded: number;
  uploadedBytes: number;
  mounted: number;
  existing: number;
}

const PARALLEL_BLOBS = 3;

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function pushArtifact(
  client: RegistryClient,
  kind: ArtifactKind,
  tag: string,
  record: Buffer,
  files: readonly PushFile[],
  annotations: Record<string, string>,
  onEvent: TransferListener = () => {},
): Promise<PushResult> {
  const manifest = buildManifest(kind, record, files, annotations);
  const digest = sha256Digest(manifest);
  const result: PushResult = { digest, unchanged: false, uploaded: 0, uploadedBytes: 0, mounted: 0, existing: 0 };
  if ((await client.manifestDigest(tag)) === digest) {
    // a manifest's blobs are in the repository by the registry's own rule: nothing to send
    return { ...result, unchanged: true, existing: files.length + 2 };
  }
  type Blob = { path: string; digest: string; size: number; bytes?: Buffer; file?: PushFile };
  const blobs = new Map<string, Blob>();
  blobs.set(sha256Digest(EMPTY_CONFIG.bytes), {
    path: "(config)",
    digest: sha256Digest(EMPTY_CONFIG.bytes),
    size: EMPTY_CONFIG.bytes.byteLength,
    bytes: EMPTY_CONFIG.bytes,
  });
  blobs.set(sha256Digest(record), { path: kind.recordPath, digest: sha256Digest(record), size: record.byteLength, bytes: record });
  for (const f of files)
    if (!blobs.has(`sha256:${f.sha256}`)) blobs.set(`sha256:${f.sha256}`, { path: f.path, digest: `sha256:${f.sha256}`, size: f.size, file: f });
  await eachLimited([...blobs.values()], PARALLEL_BLOBS, async (blob) => {
    const started = performance.now();
    const done = (outcome: "uploaded" | "exists" | "mounted") =>
      onEvent({ type: "done", path: blob.path, size: blob.size, outcome, ms: performance.now() - started });
    if (await client.hasBlob(blob.digest)) {
      result.existing++;
      return done("exists");
    }
    let location: string | undefined;
    if (blob.file?.mountFrom !== undefined) {
      const mount = await client.mountBlob(blob.digest, blob.file.mountFrom);
      if (mount.mounted) {
        result.mounted++;
        return done("mounted");
      }
      location = mount.location;
    }
    onEvent({ type: "start", path: blob.path, size: blob.size });
    if (blob.bytes) await client.uploadBytes(blob.bytes, blob.digest, location);
    else if (blob.file)
      await client.uploadBlob(blob.file.source, blob.digest, blob.size, (n) => onEvent({ type: "bytes", path: blob.path, bytes: n }), location);
    result.uploaded++;
    result.uploadedBytes += blob.size;
    done("uploaded");
  });
  await client.putManifest(tag, manifest, OCI_MANIFEST);
  return result;
}

export interface PulledArtifact<R> {
  digest: string;
  record: R;
  /** False when `expect` said the store has this already (no file was downloaded). */
  downloaded: boolean;
}

/**
 * Pulls `reference` (a tag or `sha256:` digest) into `dir` (empty, on the store's file system): the record
 * at its path, then every file. `expect` parses and validates the record bytes for the store, returning
 * the record and its files, or `null` files when the store already has exactly this (then nothing more is
 * downloaded).
 */
export async function pullArtifact<R>(
  client: RegistryClient,
  kind: ArtifactKind,
  reference: string,
  ref: string,
  dir: string,
  expect: (record: Buffer) => Promise<{ record: R; files: ArtifactFile[] | null }>,
  onEvent: TransferListener = () => {},
): Promise<PulledArtifact<R>> {
  const { bytes, digest } = await client.getManifest(reference);
  const parsed = parseArtifactManifest(bytes, kind, ref);
  if (parsed.record.size > DEFAULT_ARCHIVE_LIMITS.maxRecordBytes)
    throw new RegistryError("INVALID_ARTIFACT", `${ref}: its ${kind.recordPath} is larger than ${DEFAULT_ARCHIVE_LIMITS.maxRecordBytes} bytes`);
  const recordBytes = await client.getBlobBytes(parsed.record.digest, parsed.record.size, kind.recordPath);
  let checked: { record: R; files: ArtifactFile[] | null };
  try {
    checked = await expect(recordBytes);
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw new RegistryError("INVALID_ARTIFACT", `${ref}: invalid ${kind.recordPath}: ${(err as Error).message}`, { cause: err });
  }
  if (checked.files === null) return { digest, record: checked.record, downloaded: false };
  const files = checked.files;
  checkLayersMatchRecord(parsed, files, ref);
  const total = files.reduce((n, f) => n + f.size, 0);
  if (files.length > DEFAULT_ARCHIVE_LIMITS.maxEntries || total > DEFAULT_ARCHIVE_LIMITS.maxTotalBytes) {
    throw new RegistryError("INVALID_ARTIFACT", `${ref}: its record lists ${files.length} files of ${total} bytes, more than bentoc accepts`);
  }
  await writeFile(join(dir, kind.recordPath), recordBytes, { flag: "wx" });
  for (const f of files) {
    const target = join(dir, ...f.path.split("/"));
    await mkdir(dirname(target), { recursive: true });
    const started = performance.now();
    onEvent({ type: "start", path: f.path, size: f.size });
    await client.downloadBlob(`sha256:${f.sha256}`, f.size, target, f.path, (n) => onEvent({ type: "bytes", path: f.path, bytes: n }));
    onEvent({ type: "done", path: f.path, size: f.size, outcome: "downloaded", ms: performance.now() - started });
  }
  return { digest, record: checked.record, downloaded: true };
}
