/**
 * OCI references as `bentoc push/pull` take them: `HOST[:PORT]/PATH/NAME[:TAG][@sha256:DIGEST]`, with the
 * grammar of the distribution project's reference package. The registry part is required (bentoc has no
 * default registry): the first component must look like a host (a `.` or `:` in it, `localhost`, or an
 * IPv6 literal in brackets).
 */
import { RegistryError } from "./registry-error.ts";

export interface ImageReference {
  /** `host[:port]` as written (IPv6 in brackets). */
  registry: string;
  /** The repository path inside the registry, e.g. `team/support-tickets-minilm`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>`. */
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;

function bad(ref: string, why: string): RegistryError {
  return new RegistryError("INVALID_REFERENCE", `invalid reference ${JSON.stringify(ref)}: ${why}`);
}

export function parseReference(ref: string): ImageReference {
  if (ref.length === 0 || ref.length > 512) throw bad(ref, "expected HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST]");
  if (/^[a-z]+:\/\//i.test(ref)) throw bad(ref, "give it without a scheme (HOST[:PORT]/REPOSITORY[:TAG]); TLS is always used unless --insecure");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `the digest must be sha256: followed by 64 lowercase hex digits`);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? rest : rest.slice(0, slash);
  const looksLikeHost = first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[");
  if (slash < 0 || !looksLikeHost)
    throw bad(ref, "it must start with a registry host (e.g. registry.example:5000/team/name:tag); bentoc has no default registry");
  if (!HOST.test(first)) throw bad(ref, `${JSON.stringify(first)} is not a valid registry host[:port]`);
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `invalid tag ${JSON.stringify(tag)} (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`);
  }
  if (path.length === 0 || path.length > 255 || !path.split("/").every((c) => PATH_COMPONENT.test(c))) {
    throw bad(ref, `invalid repository ${JSON.stringify(path)} (lowercase letters, digits and separators ".", "_", "__", "-", components joined by "/")`);
  }
  return { registry: first, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** `host/repo`, `host/repo:tag`, `host/repo@sha256:…` or `host/repo:tag@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}

/** The host name without port or brackets (`127.0.0.1`, `::1`, `registry.example`). */
export function registryHostname(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const colon = registry.lastIndexOf(":");
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/** Whether the registry is on this machine's loopback: the only hosts `--insecure` may be used for. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registryHostname(registry).toLowerCase();
  return host === "localhost" || host === "127.0.0.1" || host === "::1";
}

/** Docker Hub's API host for the `docker.io` name; every other registry is its own host. */
export function apiHost(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
