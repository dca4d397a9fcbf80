/**
 * The bearer-token flow against a real registry: Debian's docker-registry (distribution 2.8) with its
 * token auth, TLS on loopback (test/helpers/registry.ts). The registry answers `401` with
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; bentoc asks the realm (a token service on its own
 * loopback port, its certificate trusted through the same --ca-file) for a token with the user's Basic
 * credentials, and the registry verifies the signed JWT. Push, a second push, pull by digest, list --remote
 * and a wrong password, through the built CLI. With CI=true a missing tool fails the test.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authJson, REGISTRY_USER, registryToolsMissing, startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { prepareHome } from "../helpers/serve-sample.ts";
import { runBentoc as bentoc } from "../unit/bento/sample-copy.ts";

const missing = registryToolsMissing();
if (missing && process.env["CI"] === "true") throw new Error(`the registry token test needs its tools in CI: ${missing}`);
if (missing) console.warn(`skipping the registry token test: ${missing}`);

describe.skipIf(missing !== null)("a registry with bearer-token auth", () => {
  let registry: TestRegistry;
  let home: string;
  const temps: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ auth: "token" });
    home = await prepareHome(["tabular"]);
    temps.push(home);
  });

  afterAll(async () => {
    await registry?.stop();
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  });

  it("push, second push, pull by digest and list --remote with tokens from the realm; a wrong password is refused", async () => {
    const env = { BENTOC_HOME: home, REGISTRY_AUTH_FILE: registry.authFile };
    const tls = ["--ca-file", registry.caFile];
    const repo = `${registry.host}/team/tabular-mlp`;

    const pushed = await bentoc(["models", "push", "tabular-mlp", repo, ...tls], env);
    expect(pushed.code, pushed.stderr).toBe(0);
    const pinned = pushed.stdout.trim();
    expect(pinned).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(registry.tokenRequests.filter((t) => t.status === 200).map((t) => t.scopes)).toContainEqual(["repository:team/tabular-mlp:pull,push"]);
    // the registry accepted the tokens: its log has the uploads, answered 201
    expect(registry.requests("PUT", /\/blobs\/uploads\//).every((l) => / 201 /.test(l))).toBe(true);
    expect(registry.requests("PUT", /\/blobs\/uploads\//).length).toBeGreaterThan(0);

    const second = await bentoc(["models", "push", "tabular-mlp", repo, ...tls], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("nothing uploaded");

    const fresh = mkdtempSync(join(tmpdir(), "bentoc-home-token-"));
    temps.push(fresh);
    const pulled = await bentoc(["models", "pull", pinned, ...tls], { ...env, BENTOC_HOME: fresh });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout.trim()).toMatch(/^tabular-mlp:/);
    expect(registry.tokenRequests.map((t) => t.scopes)).toContainEqual(["repository:team/tabular-mlp:pull"]);

    const listed = await bentoc(["models", "list", "--remote", repo, ...tls, "-o", "json"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);

    const wrong = join(fresh, "wrong-auth.json");
    writeFileSync(wrong, authJson(registry.host, REGISTRY_USER, "not-the-password"));
    const refused = await bentoc(["models", "pull", pinned, ...tls, "--authfile", wrong], { BENTOC_HOME: mkdtempSync(join(fresh, "h-")) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`registry ${registry.host} refused the credentials of user "${REGISTRY_USER}" from ${wrong} (401`);
    expect(refused.stderr.trim()).toMatch(/ \[UNAUTHORIZED\]$/);
  });
});
