/**
 * A small client of the OCI Distribution API (opencontainers/distribution-spec) for one repository, over
 * node:https (node:http only for `--insecure` loopback registries without TLS): manifests by tag or digest,
 * blobs (HEAD, cross-repository mount, monolithic or chunked streamed upload, streamed download checked
 * against its digest), and the tag list with `Link` pagination. Large blobs are never held in memory.
 *
 * Auth follows the registry's challenge: `GET /v2/` first; `Basic` sends the user's credentials,
 * `Bearer realm=…,service=…` fetches a token for the repository scope from the realm (with the credentials
 * when there are any, or an identity token as an OAuth2 refresh token) and retries once on a new
 * challenge. Credentials come from runtime/registry/credentials.ts, TLS from registry-tls.ts.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type CredentialOptions, findCredentials, type RegistryCredentials } from "./credentials.ts";
import { apiHost, isLoopbackRegistry } from "./image-reference.ts";
import { RegistryError } from "./registry-error.ts";
import { type TlsOptions, type TlsSettings, tlsSettings } from "./registry-tls.ts";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");
/** Manifests larger than this are refused (distribution's own limit is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Blobs larger than this are uploaded in chunks (PATCH) instead of one PUT. */
export const DEFAULT_CHUNK_SIZE = 128 * 1024 * 1024;
const IDLE_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 5;
const MAX_TAG_PAGES = 10_000;

export interface RegistryClientOptions extends TlsOptions, CredentialOptions {
  /** Called after every HTTP exchange (method, URL path, status): for logs and for counting in tests. */
  onRequest?: (method: string, path: string, status: number) => void;
  /** Upload blobs larger than this in PATCH chunks of this size (default 128 MiB). */
  chunkSize?: number;
}

type Body = Buffer | { size: number; open(): Readable };

interface RequestSpec {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH";
  /** A path under the registry (`/v2/…`) or an absolute URL (upload locations, redirects). */
  url: string;
  headers?: OutgoingHttpHeaders;
  body?: Body;
  /** Actions the request needs on the repository (bearer scope). */
  actions: "pull" | "pull,push";
  /** More scopes for the token (a mount's source repository). */
  extraScopes?: string[];
  /** Follow 3xx (blob downloads). */
  follow?: boolean;
}

type AuthState =
  | { kind: "unknown" }
  | { kind: "none" }
  | { kind: "basic"; header: string }
  | { kind: "bearer"; realm: string; service?: string; tokens: Map<string, string> };

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (one challenge; the first when several). */
export function parseChallenge(header: string): Challenge | null {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2] ?? ""); p; p = re.exec(m[2] ?? "")) params[(p[1] ?? "").toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  return { scheme: (m[1] ?? "").toLowerCase(), params };
}

/** The `rel="next"` target of a Link header. */
export function nextLink(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1] ?? null;
  }
  return null;
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code
    ? `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : e.message ? ` ${e.message.replace(e.code, "").trim()}` : ""}`
    : String(e.message ?? err);
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED",
]);

/** The registry's error body (`{"errors":[{"code","message"}]}`) as one short phrase. */
function registryMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(": ");
  } catch {
    // not JSON
  }
  return body.trim().split("\n")[0]?.slice(0, 200) ?? "";
}

async function readBody(res: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) {
      res.destroy();
      throw new RegistryError("PROTOCOL", `${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads an answer to its end, so its connection goes back to the pool before the next request. */
async function drain(res: IncomingMessage): Promise<void> {
  res.resume();
  if (res.readableEnded || res.destroyed) return;
  await new Promise<void>((resolveDrain) => {
    res.once("end", resolveDrain);
    res.once("close", resolveDrain);
    res.once("error", () => resolveDrain());
  });
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  private readonly tls: TlsSettings;
  private readonly options: RegistryClientOptions;
  private protocol: "https:" | "http:" = "https:";
  private auth: AuthState = { kind: "unknown" };
  private credentials: RegistryCredentials | null | undefined;
  private readonly httpsAgent: HttpsAgent;
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  /**
   * For other hosts (a token service on its own host, blob redirects): the same CAs as the registry — a
   * private registry's token service usually has a certificate from the same private CA — but always
   * verified (`--insecure` is for the loopback registry itself only).
   */
  private readonly otherHttpsAgent: HttpsAgent | undefined;

  constructor(registry: string, repository: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.repository = repository;
    this.options = options;
    this.tls = tlsSettings(registry, options);
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 8,
      rejectUnauthorized: this.tls.rejectUnauthorized,
      ...(this.tls.ca ? { ca: this.tls.ca } : {}),
    });
    this.otherHttpsAgent = this.tls.ca ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ca: this.tls.ca }) : undefined;
  }

  /** Releases the kept-alive connections. */
  close(): void {
    this.httpsAgent.destroy();
    this.otherHttpsAgent?.destroy();
    this.httpAgent.destroy();
  }

  private get base(): string {
    return `${this.protocol}//${apiHost(this.registry)}`;
  }

  private creds(): RegistryCredentials | null {
    if (this.credentials === undefined) this.credentials = findCredentials(this.registry, this.repository, this.options);
    return this.credentials;
  }

  // ---- transport ----------------------------------------------------------------------------------

  private send(method: string, url: URL, headers: OutgoingHttpHeaders, body: Body | undefined): Promise<IncomingMessage> {
    return new Promise((resolveSend, reject) => {
      const https = url.protocol === "https:";
      const ownHost = url.host === new URL(this.base).host;
      const req = (https ? httpsRequest : httpRequest)(url, {
        method,
        headers: {
          "user-agent": "bentoc",
          ...headers,
          ...(body !== undefined ? { "content-length": Buffer.isBuffer(body) ? body.byteLength : body.size } : {}),
        },
        agent: https ? (ownHost ? this.httpsAgent : this.otherHttpsAgent) : ownHost ? this.httpAgent : undefined,
      });
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`), { code: "ETIMEDOUT" })));
      req.on("response", resolveSend);
      req.on("error", (err) => reject(this.networkError(err)));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        const source = body.open();
        source.on("error", (err) => req.destroy(err));
        source.pipe(req);
      }
    });
  }

  private networkError(err: unknown): RegistryError {
    if (err instanceof RegistryError) return err;
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (TLS_CODES.has(code)) {
      const trusted = this.tls.caSources.length > 0 ? ` (trusted: ${this.tls.caSources.join(", ")})` : "";
      return new RegistryError(
        "TLS",
        `cannot verify the TLS certificate of registry ${this.registry} (${describeError(err)})${trusted}: trust its CA with --ca-file FILE, /etc/containers/certs.d/${this.registry}/ca.crt or NODE_EXTRA_CA_CERTS${isLoopbackRegistry(this.registry) ? ", or use --insecure for this loopback registry" : ""}`,
        { cause: err },
      );
    }
    return new RegistryError("UNREACHABLE", `cannot reach registry ${this.registry} (${describeError(err)}): is it running, and are host and port right?`, {
      cause: err,
    });
  }

  /** Learns how to talk to the registry (`GET /v2/`): protocol (for --insecure) and the auth scheme. */
  async ping(): Promise<void> {
    if (this.auth.kind !== "unknown") return;
    let res: IncomingMessage;
    try {
      res = await this.send("GET", new URL("/v2/", this.base), {}, undefined);
    } catch (err) {
      const cause = (err as RegistryError).cause as NodeJS.ErrnoException | undefined;
      const plainHttp = cause && (cause.code === "EPROTO" || /wrong version number|packet length too long|ECONNRESET/.test(`${cause.code} ${cause.message}`));
      if (!this.tls.insecure || !plainHttp) throw err;
      this.protocol = "http:";
      res = await this.send("GET", new URL("/v2/", this.base), {}, undefined);
    }
    await drain(res);
    this.options.onRequest?.("GET", "/v2/", res.statusCode ?? 0);
    if (res.statusCode === 200) {
      this.auth = { kind: "none" };
      return;
    }
    if (res.statusCode !== 401)
      throw new RegistryError("PROTOCOL", `${this.registry} does not answer as an OCI registry (GET /v2/ → ${res.statusCode} ${res.statusMessage ?? ""})`);
    const challenge = parseChallenge(String(res.headers["www-authenticate"] ?? ""));
    if (challenge?.scheme === "basic") {
      const creds = this.creds();
      if (!creds) throw this.noCredentials();
      this.auth = { kind: "basic", header: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` };
      // check the password now, before any upload streams a body
      const check = await this.send("GET", new URL("/v2/", this.base), { authorization: this.auth.header }, undefined);
      await drain(check);
      this.options.onRequest?.("GET", "/v2/", check.statusCode ?? 0);
      if (check.statusCode === 401) throw this.badCredentials(creds, 401, "Unauthorized");
      return;
    }
    if (challenge?.scheme === "bearer" && challenge.params["realm"]) {
      this.auth = {
        kind: "bearer",
        realm: challenge.params["realm"],
        ...(challenge.params["service"] ? { service: challenge.params["service"] } : {}),
        tokens: new Map(),
      };
      return;
    }
    throw new RegistryError(
      "PROTOCOL",
      `registry ${this.registry} asks for an unsupported authentication (${String(res.headers["www-authenticate"] ?? "no WWW-Authenticate")})`,
    );
  }

  private noCredentials(): RegistryError {
    return new RegistryError(
      "UNAUTHORIZED",
      `registry ${this.registry} needs credentials and none were found for it (looked in --authfile, REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, ~/.docker/config.json): log in with \`podman login ${this.registry}\` or \`docker login ${this.registry}\``,
    );
  }

  private badCredentials(creds: RegistryCredentials, status: number, text: string): RegistryError {
    const who = creds.username ? `user "${creds.username}"` : "the identity token";
    return new RegistryError(
      "UNAUTHORIZED",
      `registry ${this.registry} refused the credentials of ${who} from ${creds.source} (${status} ${text}): check them, or log in again with \`podman login ${this.registry}\``,
    );
  }

  private scope(actions: string, extra: readonly string[] = []): string {
    return [`repository:${this.repository}:${actions}`, ...extra].join(" ");
  }

  private async token(scope: string): Promise<string> {
    if (this.auth.kind !== "bearer") throw new Error("no bearer auth");
    const cached = this.auth.tokens.get(scope);
    if (cached !== undefined) return cached;
    const creds = this.creds();
    const realm = new URL(this.auth.realm);
    let res: IncomingMessage;
    if (creds?.identityToken) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.identityToken,
        client_id: "bentoc",
        scope,
        ...(this.auth.service ? { service: this.auth.service } : {}),
      });
      res = await this.send("POST", realm, { "content-type": "application/x-www-form-urlencoded" }, Buffer.from(form.toString()));
    } else {
      if (this.auth.service) realm.searchParams.set("service", this.auth.service);
      for (const s of scope.split(" ")) realm.searchParams.append("scope", s);
      const headers: OutgoingHttpHeaders = creds ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}` } : {};
      res = await this.send("GET", realm, headers, undefined);
    }
    const body = await readBody(res, 1 << 20, "the token answer");
    this.options.onRequest?.(creds?.identityToken ? "POST" : "GET", realm.pathname, res.statusCode ?? 0);
    if (res.statusCode === 401 || res.statusCode === 403) {
      if (!creds) throw this.noCredentials();
      throw this.badCredentials(creds, res.statusCode, res.statusMessage ?? "");
    }
    if (res.statusCode !== 200)
      throw new RegistryError("PROTOCOL", `the token service of ${this.registry} answered ${res.statusCode}: ${registryMessage(body.toString("utf8"))}`);
    let token: string | undefined;
    try {
      const parsed = JSON.parse(body.toString("utf8")) as { token?: string; access_token?: string };
      token = parsed.token ?? parsed.access_token;
    } catch {
      // handled below
    }
    if (!token) throw new RegistryError("PROTOCOL", `the token service of ${this.registry} answered without a token`);
    this.auth.tokens.set(scope, token);
    return token;
  }

  private async authHeader(scope: string): Promise<OutgoingHttpHeaders> {
    if (this.auth.kind === "basic") return { authorization: this.auth.header };
    if (this.auth.kind === "bearer") return { authorization: `Bearer ${await this.token(scope)}` };
    return {};
  }

  /** One request with auth, a retry on a fresh bearer challenge, and redirects when asked. */
  private async request(spec: RequestSpec): Promise<IncomingMessage> {
    await this.ping();
    let scope = this.scope(spec.actions, spec.extraScopes);
    let url = new URL(spec.url, this.base);
    for (let attempt = 0, redirects = 0; ; ) {
      const own = url.host === new URL(this.base).host;
      const headers = { ...(own ? await this.authHeader(scope) : {}), ...spec.headers };
      const res = await this.send(spec.method, url, headers, spec.body);
      this.options.onRequest?.(spec.method, url.pathname, res.statusCode ?? 0);
      const status = res.statusCode ?? 0;
      if (status === 401 && own && this.auth.kind === "bearer" && attempt === 0) {
        const challenge = parseChallenge(String(res.headers["www-authenticate"] ?? ""));
        await drain(res);
        attempt++;
        if (challenge?.params["scope"]) scope = [...new Set([...scope.split(" "), ...challenge.params["scope"].split(" ")])].join(" ");
        this.auth.tokens.delete(scope);
        continue;
      }
      if (status === 401) {
        await drain(res);
        const creds = this.creds();
        throw creds ? this.badCredentials(creds, 401, res.statusMessage ?? "Unauthorized") : this.noCredentials();
      }
      if (spec.follow && status >= 300 && status < 400 && res.headers.location && redirects < MAX_REDIRECTS) {
        await drain(res);
        redirects++;
        url = new URL(res.headers.location, url);
        continue;
      }
      return res;
    }
  }

  /** Reads an error answer and throws it as a RegistryError naming what was asked. */
  private async fail(res: IncomingMessage, what: string): Promise<never> {
    const body = await readBody(res, 1 << 20, "the error answer").catch(() => Buffer.alloc(0));
    const detail = registryMessage(body.toString("utf8"));
    const status = `${res.statusCode} ${res.statusMessage ?? ""}`.trim();
    if (res.statusCode === 404) throw new RegistryError("NOT_FOUND", `${what}: not found on ${this.registry} (${status}${detail ? `, ${detail}` : ""})`);
    if (res.statusCode === 403) {
      const creds = this.creds();
      throw new RegistryError(
        "DENIED",
        `${what}: registry ${this.registry} denied it${creds?.username ? ` to user "${creds.username}"` : ""} (${status}${detail ? `, ${detail}` : ""}): ask for access to ${this.repository}`,
      );
    }
    throw new RegistryError("PROTOCOL", `${what}: registry ${this.registry} answered ${status}${detail ? ` (${detail})` : ""}`);
  }

  // ---- manifests ----------------------------------------------------------------------------------

  /** The manifest's bytes, checked against the digest asked for or the one the registry states. */
  async getManifest(reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const what = `manifest ${this.repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`;
    const res = await this.request({
      method: "GET",
      url: `/v2/${this.repository}/manifests/${reference}`,
      headers: { accept: MANIFEST_ACCEPT },
      actions: "pull",
    });
    if (res.statusCode !== 200) return this.fail(res, what);
    const declared = Number(res.headers["content-length"] ?? 0);
    if (declared > MAX_MANIFEST_BYTES) {
      res.destroy();
      throw new RegistryError("INVALID_ARTIFACT", `${what} is ${declared} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have`);
    }
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, what);
    const digest = sha256Digest(bytes);
    const expected = reference.startsWith("sha256:") ? reference : String(res.headers["docker-content-digest"] ?? digest);
    if (expected !== digest)
      throw new RegistryError("DIGEST_MISMATCH", `${what} has digest ${digest}, not ${expected}: refusing a tampered or corrupted manifest`);
    return { bytes, digest, mediaType: String(res.headers["content-type"] ?? "").split(";")[0] ?? "" };
  }

  /** The digest the tag points at, or null when the repository has no such tag. */
  async manifestDigest(tag: string): Promise<string | null> {
    const res = await this.request({
      method: "HEAD",
      url: `/v2/${this.repository}/manifests/${tag}`,
      headers: { accept: MANIFEST_ACCEPT },
      actions: "pull,push",
    });
    await drain(res);
    if (res.statusCode === 404) return null;
    if (res.statusCode !== 200) return this.fail(res, `manifest ${this.repository}:${tag}`);
    const digest = res.headers["docker-content-digest"];
    return typeof digest === "string" ? digest : null;
  }

  /** PUT of a manifest under a tag; resolves to its digest (checked against the registry's). */
  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const res = await this.request({
      method: "PUT",
      url: `/v2/${this.repository}/manifests/${tag}`,
      headers: { "content-type": mediaType },
      body: bytes,
      actions: "pull,push",
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) return this.fail(res, `pushing manifest ${this.repository}:${tag}`);
    await drain(res);
    const stated = res.headers["docker-content-digest"];
    if (typeof stated === "string" && stated !== digest)
      throw new RegistryError("DIGEST_MISMATCH", `registry ${this.registry} stored manifest ${this.repository}:${tag} as ${stated}, not ${digest}`);
    return digest;
  }

  // ---- blobs --------------------------------------------------------------------------------------

  /** Whether the repository has the blob (HEAD). */
  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.request({ method: "HEAD", url: `/v2/${this.repository}/blobs/${digest}`, actions: "pull,push" });
    await drain(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    return this.fail(res, `blob ${digest}`);
  }

  /**
   * Starts an upload; with `mountFrom`, asks the registry to link the blob from that repository instead
   * (resolves to null when it did). Otherwise resolves to the upload location.
   */
  private async startUpload(digest: string, mountFrom?: string): Promise<string | null> {
    const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : "";
    const res = await this.request({
      method: "POST",
      url: `/v2/${this.repository}/blobs/uploads/${query}`,
      body: Buffer.alloc(0),
      actions: "pull,push",
      ...(mountFrom ? { extraScopes: [`repository:${mountFrom}:pull`] } : {}),
    });
    if (res.statusCode === 201 && mountFrom) {
      await drain(res);
      return null;
    }
    if (res.statusCode !== 202) return this.fail(res, `starting the upload of blob ${digest} to ${this.repository}`);
    await drain(res);
    const location = res.headers.location;
    if (!location) throw new RegistryError("PROTOCOL", `registry ${this.registry} started an upload without a Location`);
    return new URL(location, this.base).toString();
  }

  /** Links a blob of another repository of this registry into this one; true when the registry did. */
  async mountBlob(digest: string, from: string): Promise<{ mounted: true } | { mounted: false; location: string }> {
    const location = await this.startUpload(digest, from);
    return location === null ? { mounted: true } : { mounted: false, location };
  }

  /**
   * Uploads a file as the blob `digest` (streamed: one PUT, or PATCH chunks of `chunkSize` then a PUT),
   * reporting bytes sent. `location` continues an upload a refused mount started.
   */
  async uploadBlob(file: string, digest: string, size: number, onBytes?: (n: number) => void, location?: string): Promise<void> {
    let url = location ?? (await this.startUpload(digest)) ?? "";
    const chunkSize = this.options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const counted = (start: number, end: number) => ({
      size: end - start,
      open: () => {
        const stream = end > start ? createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }) : createReadStream(file, { start: 0, end: -1 });
        return stream.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              onBytes?.(chunk.byteLength);
              done(null, chunk);
            },
          }),
        );
      },
    });
    const withDigest = (u: string) => `${u}${u.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
    const octets = { "content-type": "application/octet-stream" };
    if (size <= chunkSize) {
      const res = await this.request({
        method: "PUT",
        url: withDigest(url),
        headers: octets,
        body: size === 0 ? Buffer.alloc(0) : counted(0, size),
        actions: "pull,push",
      });
      if (res.statusCode !== 201) return this.fail(res, `uploading blob ${digest}`);
      await drain(res);
      return;
    }
    for (let start = 0; start < size; start += chunkSize) {
      const end = Math.min(size, start + chunkSize);
      const res = await this.request({
        method: "PATCH",
        url,
        headers: { ...octets, "content-range": `${start}-${end - 1}` },
        body: counted(start, end),
        actions: "pull,push",
      });
      if (res.statusCode !== 202) return this.fail(res, `uploading bytes ${start}-${end - 1} of blob ${digest}`);
      await drain(res);
      if (res.headers.location) url = new URL(res.headers.location, this.base).toString();
    }
    const res = await this.request({ method: "PUT", url: withDigest(url), body: Buffer.alloc(0), actions: "pull,push" });
    if (res.statusCode !== 201) return this.fail(res, `completing the upload of blob ${digest}`);
    await drain(res);
  }

  /** Uploads a small in-memory blob (a record, the empty config) with one PUT. */
  async uploadBytes(bytes: Buffer, digest: string, location?: string): Promise<void> {
    const url = location ?? (await this.startUpload(digest)) ?? "";
    const res = await this.request({
      method: "PUT",
      url: `${url}${url.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`,
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
      actions: "pull,push",
    });
    if (res.statusCode !== 201) return this.fail(res, `uploading blob ${digest}`);
    await drain(res);
  }

  /** A small blob (a record), in memory, checked against its digest and size. */
  async getBlobBytes(digest: string, size: number, what: string): Promise<Buffer> {
    const res = await this.request({ method: "GET", url: `/v2/${this.repository}/blobs/${digest}`, actions: "pull", follow: true });
    if (res.statusCode !== 200) return this.fail(res, `${what} (blob ${digest})`);
    const bytes = await readBody(res, size, `${what} (blob ${digest})`).catch((err: unknown) => {
      throw err instanceof RegistryError && err.code === "PROTOCOL"
        ? this.tampered(what, digest, `it is longer than the ${size} bytes its descriptor says`)
        : err;
    });
    const actual = sha256Digest(bytes);
    if (bytes.byteLength !== size || actual !== digest) throw this.tampered(what, digest, `it has ${bytes.byteLength} bytes and digest ${actual}`);
    return bytes;
  }

  private tampered(what: string, digest: string, why: string): RegistryError {
    return new RegistryError(
      "DIGEST_MISMATCH",
      `${what} from ${this.registry}/${this.repository} does not match its digest ${digest} (${why}): a tampered or corrupted blob is refused`,
    );
  }

  /** Streams a blob into `dest` (created, must not exist), hashing on the way; refuses any mismatch. */
  async downloadBlob(digest: string, size: number, dest: string, what: string, onBytes?: (n: number) => void): Promise<void> {
    const res = await this.request({ method: "GET", url: `/v2/${this.repository}/blobs/${digest}`, actions: "pull", follow: true });
    if (res.statusCode !== 200) return this.fail(res, `${what} (blob ${digest})`);
    const hash = createHash("sha256");
    let received = 0;
    const check = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        received += chunk.byteLength;
        if (received > size) return done(this.tampered(what, digest, `it is longer than the ${size} bytes its descriptor says`));
        hash.update(chunk);
        onBytes?.(chunk.byteLength);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res, check, createWriteStream(dest, { flags: "wx" }));
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw new RegistryError("UNREACHABLE", `downloading ${what} from ${this.registry} failed: ${describeError(err)}`, { cause: err });
    }
    const actual = `sha256:${hash.digest("hex")}`;
    if (received !== size || actual !== digest) throw this.tampered(what, digest, `it has ${received} bytes and digest ${actual}`);
  }

  // ---- tags ---------------------------------------------------------------------------------------

  /** Every tag of the repository, following `Link: <…>; rel="next"` pages of `pageSize`. */
  async listTags(pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    let url: string | null = `/v2/${this.repository}/tags/list?n=${pageSize}`;
    for (let page = 0; url !== null; page++) {
      if (page >= MAX_TAG_PAGES)
        throw new RegistryError("PROTOCOL", `registry ${this.registry} kept paginating the tags of ${this.repository} past ${MAX_TAG_PAGES} pages`);
      const res = await this.request({ method: "GET", url, actions: "pull" });
      if (res.statusCode !== 200) return this.fail(res, `repository ${this.repository}`);
      const link = res.headers.link;
      const body = await readBody(res, 16 << 20, "the tag list");
      let parsed: { tags?: unknown };
      try {
        parsed = JSON.parse(body.toString("utf8")) as { tags?: unknown };
      } catch {
        throw new RegistryError("PROTOCOL", `registry ${this.registry} answered the tag list with something other than JSON`);
      }
      if (Array.isArray(parsed.tags)) for (const t of parsed.tags) if (typeof t === "string") tags.push(t);
      url = nextLink(typeof link === "string" ? link : undefined);
    }
    return tags;
  }
}
