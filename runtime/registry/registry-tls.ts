/**
 * How bentoc reaches a registry: HTTPS verified against the system's CAs plus, for that registry, the
 * CA certificates podman and docker would trust (`certs.d/<host:port>/*.crt` under
 * ~/.config/containers, /etc/containers and /etc/docker), `--ca-file`, and `NODE_EXTRA_CA_CERTS`.
 * `--insecure` (unverified TLS, or plain HTTP when the registry does not speak TLS) is refused for any
 * registry not on this machine's loopback.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { isLoopbackRegistry } from "./image-reference.ts";
import { RegistryError } from "./registry-error.ts";

export interface TlsOptions {
  /** A PEM file of CA certificates to trust for this registry. */
  caFile?: string;
  /** Unverified TLS or plain HTTP; loopback registries only. */
  insecure?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface TlsSettings {
  /** Trusted CAs; undefined means Node's default store (which includes NODE_EXTRA_CA_CERTS). */
  ca?: string[];
  rejectUnauthorized: boolean;
  insecure: boolean;
  /** Where the extra CAs came from, for error messages. */
  caSources: string[];
}

/** The `certs.d` directories podman, skopeo and docker read per registry. */
export function certsDirs(registry: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env["HOME"] || homedir();
  const dirName = registry.replace(/^\[(.*)\]/, "$1");
  return [join(env["XDG_CONFIG_HOME"] || join(home, ".config"), "containers", "certs.d"), "/etc/containers/certs.d", "/etc/docker/certs.d"].map((d) =>
    join(d, dirName),
  );
}

function readPem(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new RegistryError("INVALID_OPTIONS", `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new RegistryError("INVALID_OPTIONS", `${what} ${file} holds no PEM certificate`);
  return text;
}

export function tlsSettings(registry: string, options: TlsOptions = {}): TlsSettings {
  const env = options.env ?? process.env;
  if (options.insecure === true && !isLoopbackRegistry(registry)) {
    throw new RegistryError(
      "INVALID_OPTIONS",
      `--insecure is allowed only for a registry on this machine (localhost, 127.0.0.1, [::1]), not ${registry}: trust its certificate with --ca-file FILE (or put it in /etc/containers/certs.d/${registry}/ca.crt)`,
    );
  }
  if (options.insecure === true) return { rejectUnauthorized: false, insecure: true, caSources: [] };
  const extra: string[] = [];
  const sources: string[] = [];
  if (options.caFile !== undefined) {
    extra.push(readPem(options.caFile, "the CA file"));
    sources.push(options.caFile);
  }
  for (const dir of certsDirs(registry, env)) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith(".crt"))
      .sort()) {
      extra.push(readPem(join(dir, name), "the CA certificate"));
      sources.push(join(dir, name));
    }
  }
  if (extra.length === 0) return { rejectUnauthorized: true, insecure: false, caSources: [] };
  // An explicit `ca` replaces Node's store, NODE_EXTRA_CA_CERTS included: put both back.
  const nodeExtra = env["NODE_EXTRA_CA_CERTS"];
  const fromEnv = nodeExtra && existsSync(nodeExtra) ? [readFileSync(nodeExtra, "utf8")] : [];
  return { ca: [...rootCertificates, ...fromEnv, ...extra], rejectUnauthorized: true, insecure: false, caSources: sources };
}
