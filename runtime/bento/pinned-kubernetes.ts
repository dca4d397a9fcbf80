/**
 * `bentoc k8s TAG --image REF@sha256:… --out DIR`: the bento's kustomize tree (`k8s/`) with every overlay's
 * `images:` entry pinned to an image by digest, written to a directory of its own. The bento's sealed files
 * are never modified (the seal covers `k8s/`): this is a copy, in which only the `images:` entries of the
 * overlays' kustomization.yaml change (`newName` + `digest`, no `newTag`), comments kept.
 */
import { mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isMap, isSeq, parseDocument } from "yaml";
import { parseReference } from "../registry/image-reference.ts";
import { RegistryError } from "../registry/registry-error.ts";
import { uniqueName } from "../models/fs-atomic.ts";
import type { StoredBento } from "./bento-store.ts";

const K8S = "k8s/";

/** Splits `host/repo@sha256:…` (a tag before the digest is dropped: the digest decides). */
export function digestImage(image: string): { newName: string; digest: string } {
  const ref = parseReference(image);
  if (ref.digest === undefined) throw new RegistryError("INVALID_REFERENCE", `--image must name the image by digest (HOST/REPOSITORY@sha256:…), not ${image}: \`bentoc containerize TAG --push REF\` prints it`);
  return { newName: `${ref.registry}/${ref.repository}`, digest: ref.digest };
}

/** The k8s/ files of the bento (paths relative to k8s/), each overlay pinned to `image`. */
export async function pinnedKubernetes(bento: StoredBento, image: string): Promise<Record<string, string>> {
  const pin = digestImage(image);
  const files: Record<string, string> = {};
  let pinned = 0;
  for (const f of bento.files.filter((x) => x.path.startsWith(K8S))) {
    const rel = f.path.slice(K8S.length);
    const text = await readFile(join(bento.path, ...f.path.split("/")), "utf8");
    if (!/^overlays\/[^/]+\/kustomization\.yaml$/.test(rel)) {
      files[rel] = text;
      continue;
    }
    const doc = parseDocument(text);
    const images = doc.get("images");
    if (isSeq(images)) {
      for (const item of images.items) {
        if (!isMap(item) || item.get("name") !== bento.service.name) continue;
        item.set("newName", pin.newName);
        item.delete("newTag");
        item.set("digest", pin.digest);
        pinned++;
      }
    }
    doc.commentBefore = `${doc.commentBefore ?? ""}\n Image pinned by \`bentoc k8s ${bento.tag} --image ${pin.newName}@${pin.digest}\`.`.replace(/^\n/, "");
    files[rel] = doc.toString({ lineWidth: 0 });
  }
  if (pinned === 0) throw new RegistryError("INVALID_ARTIFACT", `bento ${bento.tag} has no kustomize images: entry named ${bento.service.name} to pin`);
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Writes the files into `outDir` (which must not exist, or be empty): prepared beside it, then renamed. */
export async function writeTree(files: Record<string, string>, outDir: string): Promise<void> {
  const target = resolve(outDir);
  const partial = join(dirname(target), `.${uniqueName("k8s")}.partial`);
  try {
    for (const [rel, content] of Object.entries(files)) {
      const path = join(partial, ...rel.split("/"));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    await rmdir(target).catch(() => undefined); // an empty directory may be replaced
    await rename(partial, target).catch((err: NodeJS.ErrnoException) => {
      throw new RegistryError("INVALID_OPTIONS", err.code === "ENOTEMPTY" || err.code === "EEXIST" ? `${outDir} exists and is not empty; give a new directory` : `cannot write ${outDir}: ${err.message}`);
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}
