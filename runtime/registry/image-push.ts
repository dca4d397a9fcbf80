/**
 * `bentoc containerize TAG --push REF`: pushing the built image with the container tool that built it
 * (podman push / buildah push with `--digestfile`, or docker tag + push), and the digest it got, so the
 * deployment can name the image by digest (`REF@sha256:…`). The tools read credentials from the same
 * places bentoc does (`--authfile` is passed on); `--ca-file` becomes a `--cert-dir` holding it;
 * `--insecure` (loopback registries only) becomes `--tls-verify=false`.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Backend } from "../../bento/containerize.ts";
import { formatReference, type ImageReference, parseReference } from "./image-reference.ts";
import { RegistryError } from "./registry-error.ts";
import { tlsSettings } from "./registry-tls.ts";

export interface ImagePushOptions {
  authFile?: string;
  caFile?: string;
  insecure?: boolean;
}

export interface ImagePushPlan {
  /** The reference pushed to (with its tag). */
  target: ImageReference & { tag: string };
  /** Commands to run in order. */
  commands: string[][];
  /** Where podman/buildah write the digest (undefined for docker: read from its output). */
  digestFile?: string;
  /** Temporary files to remove afterwards. */
  cleanup(): void;
}

/** The push commands for `image` to `ref` (tag defaulting to `defaultTag`). */
export function planImagePush(backend: Backend, image: string, ref: string, defaultTag: string, options: ImagePushOptions = {}): ImagePushPlan {
  const parsed = parseReference(ref);
  if (parsed.digest !== undefined) throw new RegistryError("INVALID_REFERENCE", `--push takes a tag, not a digest: ${ref}`);
  const target = { ...parsed, tag: parsed.tag ?? defaultTag };
  tlsSettings(target.registry, options); // refuses --insecure for a remote registry, checks the CA file
  const dest = formatReference(target);
  const temp = mkdtempSync(join(tmpdir(), "bentoc-push-"));
  const flags: string[] = [];
  if (options.authFile !== undefined) flags.push("--authfile", options.authFile);
  if (options.insecure === true) flags.push("--tls-verify=false");
  else if (options.caFile !== undefined) {
    copyFileSync(options.caFile, join(temp, "ca.crt"));
    flags.push("--cert-dir", temp);
  }
  const cleanup = () => rmSync(temp, { recursive: true, force: true });
  const digestFile = join(temp, "digest");
  switch (backend) {
    case "podman":
    case "buildah":
      return { target, commands: [[backend, "push", "--digestfile", digestFile, ...flags, image, `docker://${dest}`]], digestFile, cleanup };
    case "docker":
      if (options.authFile !== undefined || options.caFile !== undefined || options.insecure === true) {
        cleanup();
        throw new RegistryError(
          "INVALID_OPTIONS",
          "with docker, configure the registry in docker itself (docker login, /etc/docker/certs.d, insecure-registries): --authfile, --ca-file and --insecure apply to podman and buildah",
        );
      }
      return {
        target,
        commands: [
          ["docker", "tag", image, dest],
          ["docker", "push", dest],
        ],
        cleanup,
      };
  }
}

/** The pushed manifest's digest: from the digest file, or docker's `digest: sha256:… size:` line. */
export function pushedDigest(plan: ImagePushPlan, output: string): string {
  const text = plan.digestFile !== undefined ? readFileSync(plan.digestFile, "utf8").trim() : (/digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1] ?? "");
  if (!/^sha256:[0-9a-f]{64}$/.test(text)) throw new RegistryError("PROTOCOL", `the push of ${formatReference(plan.target)} reported no digest`);
  return text;
}

/** `host/repo@sha256:…`: what a Deployment should run. */
export function pinnedImage(target: ImageReference, digest: string): string {
  return `${target.registry}/${target.repository}@${digest}`;
}
