/**
 * The shared remote store against a real registry: Debian's docker-registry (distribution 2.8) on a
 * loopback port with htpasswd (bcrypt) auth and a self-signed certificate (test/helpers/registry.ts),
 * driven through the built CLI as a user would.
 *
 * - a model: push → delete locally → pull (by tag, and by digest into another store) → serve it;
 *   pushing again (same tag, then a new tag) uploads no blob (counted in the registry's access log);
 * - a bento: push after its model (the model's blobs are mounted, not uploaded) → pull into an empty
 *   store → it passes the bento seal, its models join the model store → `bentoc serve` classifies; a
 *   second push uploads nothing;
 * - refusals, each one clear line ending in its code (`[UNAUTHORIZED]`, …) with exit 1 and nothing left in the store: a tampered blob, a wrong
 *   password, no credentials, an untrusted certificate, --insecure for a remote host, an unreachable
 *   registry, an unknown tag;
 * - `list --remote` with pagination.
 *
 * With CI=true the missing tools fail the test; elsewhere it is skipped with the reason.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRemoteTags } from "../../runtime/registry/model-remote.ts";
import { freePort } from "../helpers/prometheus.ts";
import { authJson, REGISTRY_USER, registryToolsMissing, startRegistry, type TestRegistry, tamperBlob } from "../helpers/registry.ts";
import { prepareHome, type ServedSample, serveSample, startBentoc, waitReady } from "../helpers/serve-sample.ts";
import { runBentoc as bentoc, copySample, homeWithModel } from "../unit/bento/sample-copy.ts";

const missing = registryToolsMissing();
if (missing && process.env["CI"] === "true") throw new Error(`the registry test needs its tools in CI: ${missing}`);
if (missing) console.warn(`skipping the registry test: ${missing}`);

const UPLOADS = /\/blobs\/uploads\//;

describe.skipIf(missing !== null)("models and bentos in an OCI registry", () => {
  let registry: TestRegistry;
  const temps: string[] = [];
  const temp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    temps.push(dir);
    return dir;
  };
  let tls: string[];
  let authEnv: Record<string, string>;

  beforeAll(async () => {
    registry = await startRegistry();
    tls = ["--ca-file", registry.caFile];
    authEnv = { REGISTRY_AUTH_FILE: registry.authFile };
  });

  afterAll(async () => {
    await registry?.stop();
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  });

  /** The store holds no model and no leftover temp directory. */
  function expectEmptyStore(home: string): void {
    const models = join(home, "models");
    expect(existsSync(models) ? readdirSync(models) : []).toEqual([]);
    const tmp = join(home, ".tmp");
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  }

  function oneLineError(r: { stdout: string; stderr: string; code: number }): string {
    expect(r.code).toBe(1);
    const lines = r.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("error:"));
    expect(lines, r.stderr).toHaveLength(1);
    return lines[0] ?? "";
  }

  describe("a model", () => {
    let home: string;
    let version: string;
    let repo: string;
    let pinned: string;

    beforeAll(async () => {
      home = await prepareHome(["tabular"]);
      temps.push(home);
      version = JSON.parse((await bentoc(["models", "get", "tabular-mlp", "-o", "json"], { BENTOC_HOME: home })).stdout).version as string;
      repo = `${registry.host}/team/tabular-mlp`;
    });

    it("push → delete locally → pull, by tag and by digest; the pulled model serves", async () => {
      const mark = registry.log().length;
      const pushed = await bentoc(["models", "push", "tabular-mlp", repo, ...tls], { BENTOC_HOME: home, ...authEnv });
      expect(pushed.code, pushed.stderr).toBe(0);
      pinned = pushed.stdout.trim();
      expect(pinned).toMatch(new RegExp(`^${registry.host.replace(/\./g, "\\.")}/team/tabular-mlp@sha256:[0-9a-f]{64}$`));
      // the empty config, model.json and model.onnx: three blobs, each started once and PUT once
      expect(registry.requests("POST", UPLOADS, mark)).toHaveLength(3);
      expect(registry.requests("PUT", UPLOADS, mark)).toHaveLength(3);

      const deleted = await bentoc(["models", "delete", `tabular-mlp:${version}`], { BENTOC_HOME: home });
      expect(deleted.code, deleted.stderr).toBe(0);
      expect((await bentoc(["models", "list", "-o", "json"], { BENTOC_HOME: home })).stdout.trim()).toBe("[]");

      const pulled = await bentoc(["models", "pull", `${repo}:${version}`, ...tls], { BENTOC_HOME: home, ...authEnv });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(pulled.stdout.trim()).toBe(`tabular-mlp:${version}`);
      const again = await bentoc(["models", "pull", `${repo}:${version}`, ...tls], { BENTOC_HOME: home, ...authEnv });
      expect(again.code, again.stderr).toBe(0);

      const byDigest = temp("bentoc-home-digest-");
      const pulled2 = await bentoc(["models", "pull", pinned, ...tls], { BENTOC_HOME: byDigest, ...authEnv });
      expect(pulled2.code, pulled2.stderr).toBe(0);
      const a = JSON.parse((await bentoc(["models", "get", "tabular-mlp", "-o", "json"], { BENTOC_HOME: home })).stdout);
      const b = JSON.parse((await bentoc(["models", "get", "tabular-mlp", "-o", "json"], { BENTOC_HOME: byDigest })).stdout);
      expect({ ...b, path: "" }).toEqual({ ...a, path: "" });

      let served: ServedSample | undefined;
      try {
        served = await serveSample("tabular", { home: byDigest });
        const res = await fetch(`${served.url}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ dtype: "float32", shape: [1, 8], data: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] }),
        });
        expect(res.status, await res.clone().text()).toBe(200);
        const body = (await res.json()) as { shape: number[] };
        expect(body.shape).toEqual([1, 3]);
      } finally {
        await served?.stop();
      }
    });

    it("a second push uploads no blob: the same tag sends one HEAD, a new tag only the manifest", async () => {
      let mark = registry.log().length;
      const second = await bentoc(["models", "push", "tabular-mlp", repo, ...tls], { BENTOC_HOME: home, ...authEnv });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain("nothing uploaded");
      expect(registry.requests("POST", UPLOADS, mark)).toEqual([]);
      expect(registry.requests("PUT", /./, mark)).toEqual([]);

      mark = registry.log().length;
      const retag = await bentoc(["models", "push", "tabular-mlp", `${repo}:stable`, ...tls], { BENTOC_HOME: home, ...authEnv });
      expect(retag.code, retag.stderr).toBe(0);
      expect(retag.stderr).toMatch(/0 blobs uploaded \(0 B\), 3 already there/);
      expect(registry.requests("POST", UPLOADS, mark)).toEqual([]);
      expect(registry.requests("PATCH", UPLOADS, mark)).toEqual([]);
      expect(registry.requests("PUT", /\/manifests\/stable$/, mark)).toHaveLength(1);
      expect(retag.stdout.trim()).toBe(pinned); // same content, same digest
    });

    it("list --remote lists the tags (asking for pages)", async () => {
      const listed = await bentoc(["models", "list", "--remote", repo, ...tls, "-o", "json"], { ...authEnv });
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as string[]).sort()).toEqual([version, "stable"].sort());
      const paged = await listRemoteTags(repo, { caFile: registry.caFile, authFile: registry.authFile, pageSize: 1 });
      expect(paged.sort()).toEqual([version, "stable"].sort());
      // distribution 2.8 answers `n` with every tag in one page (no Link header; v3 paginates): the
      // client's Link following is covered by test/unit/registry/ (nextLink)
      expect(registry.requests("GET", /\/tags\/list\?n=1$/)).toHaveLength(1);
    });

    it("a tampered blob is refused on pull, and nothing is left in the store", async () => {
      const manifestDigest = pinned.split("@")[1] ?? "";
      const manifestPath = registry.blobPath(manifestDigest);
      const manifest = JSON.parse(execFileSync("cat", [manifestPath], { encoding: "utf8" })) as {
        layers: { digest: string; annotations: Record<string, string> }[];
      };
      const onnx = manifest.layers.find((l) => l.annotations["org.opencontainers.image.title"] === "model.onnx");
      tamperBlob(registry, onnx?.digest ?? "");
      const fresh = temp("bentoc-home-tampered-");
      const r = await bentoc(["models", "pull", pinned, ...tls], { BENTOC_HOME: fresh, ...authEnv });
      const line = oneLineError(r);
      expect(line).toContain("model.onnx");
      expect(line).toContain("a tampered or corrupted blob is refused");
      expect(line).toMatch(/ \[DIGEST_MISMATCH\]$/);
      expectEmptyStore(fresh);
      tamperBlob(registry, onnx?.digest ?? ""); // flip the byte back for the other tests
    });

    it("wrong password, no credentials: one clear line naming the registry, the status and what to do", async () => {
      const dir = temp("bentoc-auth-");
      const wrong = join(dir, "auth.json");
      writeFileSync(wrong, authJson(registry.host, REGISTRY_USER, "not-the-password"));
      const fresh = temp("bentoc-home-auth-");
      const r = await bentoc(["models", "pull", pinned, ...tls, "--authfile", wrong], { BENTOC_HOME: fresh });
      const line = oneLineError(r);
      expect(line).toContain(`registry ${registry.host} refused the credentials of user "${REGISTRY_USER}" from ${wrong} (401 Unauthorized)`);
      expect(line).toContain(`podman login ${registry.host}`);
      expect(line).toMatch(/ \[UNAUTHORIZED\]$/);
      expectEmptyStore(fresh);

      const push = await bentoc(["models", "push", "tabular-mlp", repo, ...tls], { BENTOC_HOME: home, REGISTRY_AUTH_FILE: wrong });
      expect(oneLineError(push)).toContain("refused the credentials");

      const none = await bentoc(["models", "pull", pinned, ...tls], {
        BENTOC_HOME: fresh,
        HOME: dir,
        REGISTRY_AUTH_FILE: join(dir, "absent.json"),
        XDG_RUNTIME_DIR: dir,
        DOCKER_CONFIG: dir,
      });
      expect(oneLineError(none)).toContain(`registry ${registry.host} needs credentials and none were found`);
      expectEmptyStore(fresh);
    });

    it("TLS: an untrusted certificate, --insecure for loopback only, an unreachable registry, an unknown tag", async () => {
      const fresh = temp("bentoc-home-tls-");
      const untrusted = await bentoc(["models", "pull", pinned], { BENTOC_HOME: fresh, ...authEnv });
      expect(oneLineError(untrusted)).toMatch(new RegExp(`cannot verify the TLS certificate of registry ${registry.host.replace(/\./g, "\\.")} .*--ca-file`));
      const insecure = await bentoc(["models", "pull", pinned, "--insecure"], { BENTOC_HOME: fresh, ...authEnv });
      expect(insecure.code, insecure.stderr).toBe(0);
      rmSync(join(fresh, "models"), { recursive: true, force: true });

      const remote = await bentoc(["models", "push", "tabular-mlp", "registry.example:5000/team/tabular-mlp", "--insecure"], { BENTOC_HOME: home, ...authEnv });
      expect(oneLineError(remote)).toContain("--insecure is allowed only for a registry on this machine");

      const closed = await freePort();
      const unreachable = await bentoc(["models", "pull", `127.0.0.1:${closed}/team/tabular-mlp:${version}`, ...tls], { BENTOC_HOME: fresh, ...authEnv });
      expect(oneLineError(unreachable)).toContain(`cannot reach registry 127.0.0.1:${closed} (ECONNREFUSED`);

      const unknown = await bentoc(["models", "pull", `${repo}:no-such-tag`, ...tls], { BENTOC_HOME: fresh, ...authEnv });
      expect(oneLineError(unknown)).toMatch(/manifest team\/tabular-mlp:no-such-tag: not found on .*MANIFEST_UNKNOWN/);
      const noTag = await bentoc(["models", "pull", repo, ...tls], { BENTOC_HOME: fresh, ...authEnv });
      expect(oneLineError(noTag)).toContain("names no tag or digest");
      expectEmptyStore(fresh);
    });
  });

  describe("a bento", () => {
    let sample: ReturnType<typeof copySample>;
    let home: ReturnType<typeof homeWithModel>;
    let tag: string;
    let models: string[];

    beforeAll(async () => {
      sample = copySample();
      home = homeWithModel();
      const built = await bentoc(["build", sample.dir, "-o", "json"], { BENTOC_HOME: home.home });
      expect(built.code, built.stderr).toBe(0);
      const summary = JSON.parse(built.stdout) as { tag: string; models: string[] };
      tag = summary.tag;
      models = summary.models;
    });

    afterAll(() => {
      sample?.cleanup();
      home?.cleanup();
    });

    it("push (model files mounted from the model's repository) → pull into an empty store → serve", async () => {
      for (const model of models) {
        const name = model.split(":")[0] ?? "";
        const r = await bentoc(["models", "push", model, `${registry.host}/team/${name}`, ...tls], { BENTOC_HOME: home.home, ...authEnv });
        expect(r.code, r.stderr).toBe(0);
      }
      const mark = registry.log().length;
      const pushed = await bentoc(["push", tag, `${registry.host}/team/support-tickets`, ...tls], { BENTOC_HOME: home.home, ...authEnv });
      expect(pushed.code, pushed.stderr).toBe(0);
      expect(pushed.stderr).toMatch(/\d+ mounted/);
      const mounts = registry.requests("POST", /\/blobs\/uploads\/\?mount=/, mark);
      expect(mounts.length).toBeGreaterThan(0);
      expect(mounts.every((l) => / 201 /.test(l))).toBe(true);

      const fresh = temp("bentoc-home-bento-");
      const pulled = await bentoc(["pull", `${registry.host}/team/support-tickets:${tag.split(":")[1]}`, ...tls], { BENTOC_HOME: fresh, ...authEnv });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(pulled.stdout.trim()).toBe(tag);
      expect(pulled.stderr).toContain(`models added: ${models.join(", ")}`);

      // pushed again: nothing uploaded (one HEAD of the manifest the tag names)
      const again = registry.log().length;
      const second = await bentoc(["push", tag, `${registry.host}/team/support-tickets`, ...tls], { BENTOC_HOME: home.home, ...authEnv });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain("nothing uploaded");
      expect(registry.requests("POST", UPLOADS, again)).toEqual([]);
      expect(registry.requests("PUT", /./, again)).toEqual([]);
      const listed = JSON.parse((await bentoc(["models", "list", "-o", "json"], { BENTOC_HOME: fresh })).stdout) as { tag: string }[];
      expect(listed.map((m) => m.tag).sort()).toEqual([...models].sort());

      // served from the store by tag: `bentoc serve` verifies the whole bento (the seal) before serving
      const port = await freePort();
      const { child, output } = startBentoc(["serve", tag, "--port", String(port), "--host", "127.0.0.1"], { BENTOC_HOME: fresh, BENTOC_LOG_LEVEL: "warn" });
      try {
        await waitReady(`http://127.0.0.1:${port}`, child, output);
        const res = await fetch(`http://127.0.0.1:${port}/classify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ texts: ["I was charged twice for my subscription this month", "cannot log in"] }),
        });
        expect(res.status, await res.clone().text()).toBe(200);
        expect(((await res.json()) as { results: { label: string }[] }).results).toHaveLength(2); // a result per text, through both runners
      } finally {
        child.kill("SIGTERM");
      }

      const list = await bentoc(["list", "--remote", `${registry.host}/team/support-tickets`, ...tls], { ...authEnv });
      expect(list.stdout.trim()).toBe(`${registry.host}/team/support-tickets:${tag.split(":")[1]}`);
      const wrongKind = await bentoc(["models", "pull", `${registry.host}/team/support-tickets:${tag.split(":")[1]}`, ...tls], {
        BENTOC_HOME: temp("bentoc-home-kind-"),
        ...authEnv,
      });
      expect(oneLineError(wrongKind)).toContain("holds a bentoc bento, not a model: pull it with `bentoc pull`");
    });
  });
});
