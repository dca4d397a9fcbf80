/**
 * A real OCI registry for the tests: Debian's `docker-registry` (distribution 2.8) started on a free
 * loopback port in a temp dir, with htpasswd auth (bcrypt, `htpasswd -B` from apache2-utils) and a
 * self-signed TLS certificate for 127.0.0.1/localhost (openssl). With `{ auth: "token" }` the registry uses
 * distribution's token auth instead: it answers `Bearer realm=…` challenges and verifies the JWTs it is
 * given against a signing certificate; the token service (the part a Docker Hub, Harbor or GitLab would
 * run) is a small HTTPS server in the test process, on its own loopback port, that checks the same user and
 * password (Basic) and issues ES256 JWTs granting the scopes asked for. Its log is kept (every request is one
 * line, which is how the tests count blob uploads) and its storage is a plain directory (which is how
 * they tamper with a blob). `stop()` ends the process and removes the directory.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createPrivateKey, randomUUID, sign, X509Certificate } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { which } from "../../bento/containerize.ts";
import { freePort } from "./prometheus.ts";

export const REGISTRY_USER = "bentoc";
export const REGISTRY_PASSWORD = "s3cret-registry-pass";

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string;
  /** The self-signed certificate (PEM file): the CA to trust. */
  caFile: string;
  /** An auth.json (podman's format) holding the right credentials. */
  authFile: string;
  /** The registry's storage root (distribution's filesystem driver layout). */
  storage: string;
  dir: string;
  /** Everything the registry logged so far. */
  log(): string;
  /** Request lines of the log since `from` (a length of log()) matching method and path pattern. */
  requests(method: string, path: RegExp, from?: number): string[];
  /** Where the registry keeps the data of blob `sha256:…`. */
  blobPath(digest: string): string;
  /** With token auth: every token request the token service answered (scopes asked, status). */
  tokenRequests: { scopes: string[]; status: number }[];
  stop(): Promise<void>;
}

/** The tools the registry tests need, or null when all are installed. */
export function registryToolsMissing(): string | null {
  const missing = ["docker-registry", "htpasswd", "openssl"].filter((t) => which(t) === null);
  return missing.length > 0 ? `${missing.join(", ")} not installed (sudo bash scripts/ci-deps.sh: docker-registry, apache2-utils, openssl)` : null;
}

export function authJson(host: string, user: string, password: string): string {
  return `${JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } }, null, 2)}\n`;
}

const TOKEN_SERVICE = "bentoc-test-registry";
const TOKEN_ISSUER = "bentoc-test-token-issuer";

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * The token service of distribution's token auth (docs.docker.com/registry/spec/auth/token): Basic
 * credentials in, a JWT out — ES256 over `header.claims`, the signing certificate in the `x5c` header,
 * `access` granting each `scope` asked for.
 */
async function startTokenService(
  tlsCert: string,
  tlsKey: string,
  signingCert: string,
  signingKey: string,
  log: { scopes: string[]; status: number }[],
): Promise<{ server: HttpsServer; realm: string }> {
  const key = createPrivateKey(readFileSync(signingKey));
  const x5c = [new X509Certificate(readFileSync(signingCert)).raw.toString("base64")];
  const server = createHttpsServer({ cert: readFileSync(tlsCert), key: readFileSync(tlsKey) }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://localhost");
    const scopes = url.searchParams.getAll("scope");
    const answer = (status: number, body: unknown) => {
      log.push({ scopes, status });
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const [user, password] = basic ? Buffer.from(basic, "base64").toString("utf8").split(/:(.*)/s) : [];
    if (url.pathname !== "/token" || url.searchParams.get("service") !== TOKEN_SERVICE)
      return answer(400, { errors: [{ code: "DENIED", message: "unknown service" }] });
    if (user !== REGISTRY_USER || password !== REGISTRY_PASSWORD)
      return answer(401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.flatMap((s) => {
      const m = /^([^:]+):(.+):([^:]+)$/.exec(s);
      return m ? [{ type: m[1], name: m[2], actions: (m[3] ?? "").split(",") }] : [];
    });
    const claims = { iss: TOKEN_ISSUER, sub: user, aud: TOKEN_SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c }))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }))}`;
    answer(200, { token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as { port: number };
  return { server, realm: `https://127.0.0.1:${port}/token` };
}

/** A self-signed P-256 certificate valid for two days, with its key (openssl). */
function selfSignedCert(keyFile: string, certFile: string, subject: string, extra: string[]): void {
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", subject, ...extra];
  execFileSync("openssl", [...args, "-keyout", keyFile, "-out", certFile], { stdio: "ignore" });
}

export async function startRegistry(options: { auth?: "htpasswd" | "token" } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "bentoc-registry-"));
  const storage = join(dir, "data");
  const caFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  selfSignedCert(keyFile, caFile, "/CN=bentoc test registry", ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]);
  execFileSync("htpasswd", ["-B", "-b", "-c", join(dir, "htpasswd"), REGISTRY_USER, REGISTRY_PASSWORD], { stdio: "ignore" });
  const tokenRequests: { scopes: string[]; status: number }[] = [];
  let token: { server: HttpsServer; realm: string } | undefined;
  if (options.auth === "token") {
    const signingCert = join(dir, "token-signing.pem");
    const signingKey = join(dir, "token-signing-key.pem");
    selfSignedCert(signingKey, signingCert, "/CN=bentoc test token issuer", []);
    token = await startTokenService(caFile, keyFile, signingCert, signingKey, tokenRequests);
  }
  const authConfig = token
    ? [
        "auth:",
        "  token:",
        `    realm: ${token.realm}`,
        `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`,
        `    rootcertbundle: ${join(dir, "token-signing.pem")}`,
      ]
    : ["auth:", "  htpasswd:", "    realm: bentoc-test", `    path: ${join(dir, "htpasswd")}`];

  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, "config.yml");
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log:",
        "  level: info",
        "  formatter: text",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${storage}`,
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: ${host}`,
        "  tls:",
        `    certificate: ${caFile}`,
        `    key: ${keyFile}`,
        ...authConfig,
        "",
      ].join("\n"),
    );
    // The log goes to a file, not a pipe: a test blocked in execFileSync would stop draining a pipe, and
    // the registry would stall on a full one.
    const logFile = join(dir, `registry-${attempt}.log`);
    const fd = openSync(logFile, "w");
    const child: ChildProcess = spawn("docker-registry", ["serve", config], {
      stdio: ["ignore", fd, fd],
      env: { ...process.env, OTEL_TRACES_EXPORTER: "none" },
    });
    closeSync(fd);
    const output = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
    const up = await waitListening(child, output, 20_000);
    if (!up) {
      lastError = output();
      child.kill("SIGKILL");
      continue;
    }
    const authFile = join(dir, "auth.json");
    writeFileSync(authFile, authJson(host, REGISTRY_USER, REGISTRY_PASSWORD));
    return {
      host,
      caFile,
      authFile,
      storage,
      dir,
      log: output,
      requests(method, path, from = 0) {
        // the access log: 127.0.0.1 - - [date] "METHOD URI HTTP/1.1" STATUS BYTES "" "agent"
        return output()
          .slice(from)
          .split("\n")
          .filter((l) => {
            const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" \d{3} /.exec(l);
            return m !== null && m[1] === method && path.test(m[2] ?? "");
          });
      },
      tokenRequests,
      blobPath: (digest) => join(storage, "docker/registry/v2/blobs/sha256", digest.slice(7, 9), digest.slice(7), "data"),
      stop: () =>
        new Promise<void>((resolveStop) => {
          const done = () => {
            token?.server.close();
            token?.server.closeAllConnections();
            rmSync(dir, { recursive: true, force: true });
            resolveStop();
          };
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once("exit", done);
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
        }),
    };
  }
  token?.server.close();
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start:\n${lastError}`);
}

/** Resolves true once the registry logs that it listens, false when it exits or the time is up. */
async function waitListening(child: ChildProcess, output: () => string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    if (/listening on/.test(output())) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Replaces a stored blob's bytes with others of the same length (the registry serves them as they are). */
export function tamperBlob(registry: TestRegistry, digest: string): void {
  const path = registry.blobPath(digest);
  const data = readFileSync(path);
  const at = Math.floor(data.length / 2);
  data[at] = (data[at] ?? 0) ^ 0xff;
  writeFileSync(path, data);
}
