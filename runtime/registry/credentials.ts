/**
 * Registry credentials from the places podman, skopeo and docker keep them, in their order:
 *
 *   --authfile FILE (alone, when given)
 *   $REGISTRY_AUTH_FILE
 *   $XDG_RUNTIME_DIR/containers/auth.json       (podman login)
 *   $XDG_CONFIG_HOME/containers/auth.json       (~/.config/containers/auth.json)
 *   $DOCKER_CONFIG/config.json                  (~/.docker/config.json: docker login)
 *
 * In each, `auths` is keyed by registry (`host:port`, docker's `https://host/v1/` forms too) or, as podman
 * allows, by `host/namespace[/repo]` (the most specific key wins). An entry holds `auth`
 * (base64 `user:password`), or `username`/`password`, or an `identitytoken` (an OAuth2 refresh token).
 * An entry without secrets, or a file naming `credHelpers`/`credsStore`, defers to the helper program
 * `docker-credential-<name> get`. Never from the bentofile or the bento.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./registry-error.ts";

export interface RegistryCredentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token (docker's `identitytoken`), used at the token endpoint instead of the password. */
  identityToken?: string;
  /** Where they came from (a file, or `docker-credential-<name>`), for error messages. */
  source: string;
}

export interface CredentialOptions {
  /** Only this file (podman's `--authfile`). */
  authFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** The auth files looked at, in order (those that do not exist included). */
export function authFiles(options: CredentialOptions = {}): string[] {
  if (options.authFile !== undefined) return [options.authFile];
  const env = options.env ?? process.env;
  const home = env["HOME"] || homedir();
  const files: string[] = [];
  if (env["REGISTRY_AUTH_FILE"]) files.push(env["REGISTRY_AUTH_FILE"]);
  if (env["XDG_RUNTIME_DIR"]) files.push(join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"));
  files.push(join(env["XDG_CONFIG_HOME"] || join(home, ".config"), "containers", "auth.json"));
  files.push(join(env["DOCKER_CONFIG"] || join(home, ".docker"), "config.json"));
  return files;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** `https://host:5000/v1/` → `host:5000`; `host/ns/` → `host/ns`; docker's index → `docker.io`. */
export function normaliseAuthKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, "").replace(/\/+$/, "");
  k = k.replace(/\/v[12]$/, "");
  if (k === "index.docker.io" || k === "registry-1.docker.io") k = "docker.io";
  return k;
}

/** Keys to try for a repository, most specific first: `host/a/b`, `host/a`, `host`. */
function lookupKeys(registry: string, repository: string): string[] {
  const parts = repository.split("/");
  const keys: string[] = [];
  for (let i = parts.length; i >= 1; i--) keys.push(`${registry}/${parts.slice(0, i).join("/")}`);
  keys.push(registry);
  return keys;
}

function readAuthFile(file: string): AuthFile | null {
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new RegistryError("INVALID_OPTIONS", `cannot read the registry auth file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new RegistryError("INVALID_OPTIONS", `the registry auth file ${file} is not a JSON object`);
  return parsed as AuthFile;
}

function fromEntry(entry: AuthEntry, source: string, key: string): RegistryCredentials | null {
  if (typeof entry.auth === "string" && entry.auth.length > 0) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new RegistryError("INVALID_OPTIONS", `the "auth" of ${key} in ${source} is not base64 of user:password`);
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}),
      source,
    };
  }
  if (typeof entry.username === "string" && typeof entry.password === "string") return { username: entry.username, password: entry.password, source };
  if (typeof entry.identitytoken === "string" && entry.identitytoken.length > 0)
    return { username: "", password: "", identityToken: entry.identitytoken, source };
  return null;
}

/** Runs `docker-credential-<helper> get` with the registry on stdin (docker's credential helper protocol). */
function fromHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): RegistryCredentials | null {
  const program = `docker-credential-${helper}`;
  const result = spawnSync(program, ["get"], { input: registry, encoding: "utf8", env, timeout: 30_000 });
  if (result.error) throw new RegistryError("INVALID_OPTIONS", `the credential helper ${program} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    if (/credentials not found/i.test(result.stdout + result.stderr)) return null;
    throw new RegistryError(
      "INVALID_OPTIONS",
      `the credential helper ${program} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim().split("\n")[0] ?? ""}`,
    );
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new RegistryError("INVALID_OPTIONS", `the credential helper ${program} printed no JSON`);
  }
  if (typeof parsed.Secret !== "string") return null;
  if (parsed.Username === "<token>") return { username: "", password: "", identityToken: parsed.Secret, source: program };
  return { username: parsed.Username ?? "", password: parsed.Secret, source: program };
}

/** Credentials for `registry/repository`, or null when none of the standard places has any. */
export function findCredentials(registry: string, repository: string, options: CredentialOptions = {}): RegistryCredentials | null {
  const env = options.env ?? process.env;
  const wanted = lookupKeys(registry === "index.docker.io" ? "docker.io" : registry, repository);
  for (const file of authFiles(options)) {
    const content = readAuthFile(file);
    if (!content) continue;
    const auths = new Map<string, AuthEntry>();
    for (const [key, entry] of Object.entries(content.auths ?? {})) if (entry && typeof entry === "object") auths.set(normaliseAuthKey(key), entry);
    for (const key of wanted) {
      const entry = auths.get(key);
      if (!entry) continue;
      const creds = fromEntry(entry, file, key);
      if (creds) return creds;
    }
    const helper = content.credHelpers?.[registry] ?? content.credsStore;
    if (helper) {
      const creds = fromHelper(helper, registry, env);
      if (creds) return creds;
    }
  }
  return null;
}
