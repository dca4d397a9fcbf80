/**
 * `bentoc k8s TAG --image REF@sha256:… --out DIR`: the bento's kustomize tree (`k8s/`) with every overlay's
 * `images:` entry pinned to an image by digest, written to a directory of its own. The bento's sealed files
 * are never modified (the seal covers `k8s/`): this is a copy, in which only the `images:` entries of the
 * overlays' kustomization.yaml change (`newName` + `digest`, no `newTag`), comments kept.
 *
 * With `--models-from HOST/PATH` the pods that load models (the monolith's and the canary's Deployment,
 * the split overlay's runner Deployments) get them at start instead of from the image: each overlay gains
 * `models-init.yaml`, a JSON patch adding an init container `pull-models` (the same image, running
 * `bentoc models pull HOST/PATH/<model>@sha256:…` for every model the bento carries) that fills an
 * emptyDir mounted at the image's BENTOC_HOME (`/bento/models`, read-only in the serving container). The
 * model digests are computed offline from the bento's copies of the records (what `bentoc models push` to
 * HOST/PATH/<model> gives), so the deployment names exactly the bento's models. Credentials come from the
 * optional Secret `<service>-registry` (keys `auth.json`, and `ca.crt` for a private CA).
 */
import { mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isMap, isSeq, parseDocument, stringify as toYamlText } from "yaml";
import { restrictedSecurityContext } from "../contract/container-security.ts";
import { uniqueName } from "../runtime/models/fs-atomic.ts";
import { formatReference, parseReference } from "../runtime/registry/image-reference.ts";
import { modelManifestDigest } from "../runtime/registry/model-remote.ts";
import { RegistryError } from "../runtime/registry/registry-error.ts";
import type { StoredBento } from "./bento-store.ts";

const K8S = "k8s/";

/** Splits `host/repo@sha256:…` (a tag before the digest is dropped: the digest decides). */
export function digestImage(image: string): { newName: string; digest: string } {
  const ref = parseReference(image);
  if (ref.digest === undefined)
    throw new RegistryError(
      "INVALID_REFERENCE",
      `--image must name the image by digest (HOST/REPOSITORY@sha256:…), not ${image}: \`bentoc containerize TAG --push REF\` prints it`,
    );
  return { newName: `${ref.registry}/${ref.repository}`, digest: ref.digest };
}

/** Where the image keeps its model store (the Containerfile's BENTOC_HOME), and so where the emptyDir goes. */
export const IMAGE_MODELS_DIR = "/bento/models";
/** Where the init container finds the optional registry Secret (auth.json, ca.crt). */
export const REGISTRY_SECRET_DIR = "/etc/bentoc/registry";
export const MODELS_INIT_PATCH = "models-init.yaml";

/** `HOST/PATH/<model>@sha256:…` for each model the bento carries, computed from the bento's copy of its record. */
export async function modelReferences(bento: StoredBento, modelsFrom: string): Promise<{ tag: string; ref: string; size: number }[]> {
  const refs: { tag: string; ref: string; size: number }[] = [];
  for (const tag of bento.models) {
    const [name = "", version = ""] = tag.split(":");
    const dir = `models/models/${name}/${version}/`;
    const record = bento.files.find((f) => f.path === `${dir}model.json`);
    if (!record) throw new RegistryError("INVALID_ARTIFACT", `bento ${bento.tag} lists model ${tag} but carries no ${dir}model.json`);
    const digest = modelManifestDigest(await readFile(join(bento.path, ...record.path.split("/"))));
    const parsed = parseReference(`${modelsFrom.replace(/\/+$/, "")}/${name}`);
    if (parsed.tag !== undefined || parsed.digest !== undefined)
      throw new RegistryError("INVALID_REFERENCE", `--models-from takes HOST[:PORT]/PATH, the repositories' prefix, not ${modelsFrom}`);
    const size = bento.files.filter((f) => f.path.startsWith(dir)).reduce((n, f) => n + f.size, 0);
    refs.push({ tag, ref: formatReference({ registry: parsed.registry, repository: parsed.repository, digest }), size });
  }
  return refs;
}

/** The JSON patch (RFC 6902, as YAML) giving a Deployment the init container that pulls the models. */
export function modelsInitPatch(serviceName: string, refs: readonly { ref: string; size: number }[]): string {
  const total = refs.reduce((n, r) => n + r.size, 0);
  // the files plus a margin (the record, the store's lock, a pull's temporary copy is renamed, not kept)
  const sizeLimitMi = Math.ceil((total * 1.25) / 2 ** 20) + 64;
  const secretMount = { name: "registry", mountPath: REGISTRY_SECRET_DIR, readOnly: true };
  const init = {
    name: "pull-models",
    image: serviceName, // the images: entry of the overlay pins it, as it pins the serving container
    imagePullPolicy: "IfNotPresent",
    args: ["models", "pull", ...refs.map((r) => r.ref)],
    env: [
      { name: "BENTOC_HOME", value: IMAGE_MODELS_DIR },
      { name: "REGISTRY_AUTH_FILE", value: `${REGISTRY_SECRET_DIR}/auth.json` },
      { name: "NODE_EXTRA_CA_CERTS", value: `${REGISTRY_SECRET_DIR}/ca.crt` },
    ],
    resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "500m", memory: "256Mi" } },
    securityContext: restrictedSecurityContext(),
    volumeMounts: [{ name: "models", mountPath: IMAGE_MODELS_DIR }, secretMount, { name: "tmp", mountPath: "/tmp" }],
  };
  const ops = [
    { op: "add", path: "/spec/template/spec/initContainers", value: [init] },
    { op: "add", path: "/spec/template/spec/volumes/-", value: { name: "models", emptyDir: { sizeLimit: `${sizeLimitMi}Mi` } } },
    { op: "add", path: "/spec/template/spec/volumes/-", value: { name: "registry", secret: { secretName: `${serviceName}-registry`, optional: true } } },
    { op: "add", path: "/spec/template/spec/containers/0/volumeMounts/-", value: { name: "models", mountPath: IMAGE_MODELS_DIR, readOnly: true } },
  ];
  const header = [
    `# The models at pod start (bentoc k8s --models-from): an init container pulls ${refs.length === 1 ? "the model" : `the ${refs.length} models`} by digest into`,
    `# an emptyDir mounted at ${IMAGE_MODELS_DIR}, the image's BENTOC_HOME. Registry credentials: the optional Secret`,
    `# ${serviceName}-registry, keys auth.json (docker/podman format) and ca.crt (a private CA), e.g.`,
    `#   kubectl create secret generic ${serviceName}-registry --from-file=auth.json=$XDG_RUNTIME_DIR/containers/auth.json`,
  ];
  return `${header.join("\n")}\n${toYamlText(ops)}`;
}

/** The k8s/ files of the bento (paths relative to k8s/), each overlay pinned to `image`. */
export async function pinnedKubernetes(bento: StoredBento, image: string, options: { modelsFrom?: string } = {}): Promise<Record<string, string>> {
  const pin = digestImage(image);
  const refs = options.modelsFrom !== undefined ? await modelReferences(bento, options.modelsFrom) : null;
  if (refs !== null && refs.length === 0) throw new RegistryError("INVALID_OPTIONS", `bento ${bento.tag} carries no model: --models-from has nothing to pull`);
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
    if (refs !== null) {
      const overlay = rel.split("/")[1] ?? "";
      // split: the runners load the models, the API pods none; elsewhere every Deployment is a serving one
      const target = {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        ...(overlay === "split" ? { labelSelector: "app.kubernetes.io/component=runner" } : {}),
      };
      let patches = doc.get("patches");
      if (!isSeq(patches)) {
        doc.set("patches", doc.createNode([]));
        patches = doc.get("patches");
      }
      if (isSeq(patches)) patches.add(doc.createNode({ path: MODELS_INIT_PATCH, target }));
      files[rel.replace(/kustomization\.yaml$/, MODELS_INIT_PATCH)] = modelsInitPatch(bento.service.name, refs);
    }
    const how = `bentoc k8s ${bento.tag} --image ${pin.newName}@${pin.digest}${options.modelsFrom !== undefined ? ` --models-from ${options.modelsFrom}` : ""}`;
    doc.commentBefore = `${doc.commentBefore ?? ""}\n Image pinned by \`${how}\`.`.replace(/^\n/, "");
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
      throw new RegistryError(
        "INVALID_OPTIONS",
        err.code === "ENOTEMPTY" || err.code === "EEXIST"
          ? `${outDir} exists and is not empty; give a new directory`
          : `cannot write ${outDir}: ${err.message}`,
      );
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}
