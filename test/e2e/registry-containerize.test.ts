/**
 * `bentoc containerize TAG --push REF` against a real registry (docker-registry with htpasswd and TLS,
 * test/helpers/registry.ts): the image is built with buildah on the local base image, pushed with
 * `buildah push --digestfile`, and `skopeo inspect` finds it at the printed digest. Then `bentoc k8s TAG
 * --image REF@sha256:… --out DIR` writes the kustomize tree pinned by digest: `kubectl kustomize` renders
 * every overlay with that image, each object valid against the Kubernetes schemas, and the bento's own
 * sealed files are unchanged. With CI=true missing tools fail the test; elsewhere it is skipped.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { BentoStore } from "../../runtime/bento/bento-store.ts";
import { which } from "../../runtime/bento/containerize.ts";
import { containerToolsMissing, ensureBaseImage, TEST_BASE_IMAGE, tool } from "../helpers/container-base.ts";
import { registryToolsMissing, startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { strictProblems } from "../unit/k8s/kubernetes-schema.ts";
import { CLI, copySample, homeWithModel, ROOT } from "../unit/bento/sample-copy.ts";

const missing = [registryToolsMissing(), containerToolsMissing(), ...["skopeo", "kubectl"].map((t) => (which(t) === null ? `${t} not installed` : null))].filter((m) => m !== null).join("; ") || null;
if (missing && process.env["CI"] === "true") throw new Error(`the containerize --push test needs its tools in CI: ${missing}`);
if (missing) console.warn(`skipping the containerize --push test: ${missing}`);

/** The built CLI, run asynchronously (a blocked test worker misses vitest's RPC deadline): stdout, stderr, exit code. */
function bentoc(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ stdout, stderr, code: code ?? 1 }));
  });
}

describe.skipIf(missing !== null)("containerize --push, then deploy by digest", () => {
  let registry: TestRegistry;
  let sample: ReturnType<typeof copySample>;
  let home: ReturnType<typeof homeWithModel>;
  let work: string;
  const image = `localhost/bentoc-e2e-push:${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    ensureBaseImage();
    registry = await startRegistry();
    sample = copySample();
    home = homeWithModel();
    work = mkdtempSync(join(tmpdir(), "bentoc-push-"));
  });

  afterAll(async () => {
    spawnSync("buildah", ["rmi", image]);
    await registry?.stop();
    sample?.cleanup();
    home?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("pushes the image, skopeo inspect shows it by digest, and the pinned kustomize tree is valid", async () => {
    const env = { BENTOC_HOME: home.home, REGISTRY_AUTH_FILE: registry.authFile };
    const built = await bentoc(["build", sample.dir], env);
    expect(built.code, built.stderr).toBe(0);
    const tag = built.stdout.trim();
    const repo = `${registry.host}/team/support-tickets-image`;

    const cz = await bentoc(["containerize", tag, "--backend", "buildah", "-t", image, "--build-arg", `BASE_IMAGE=${TEST_BASE_IMAGE}`, "--push", repo, "--ca-file", registry.caFile], env);
    expect(cz.code, cz.stderr.slice(-3000)).toBe(0);
    expect(cz.stderr).toContain(`buildah push --digestfile`);
    const pinned = cz.stdout.trim().split("\n").at(-1) ?? "";
    expect(pinned).toMatch(new RegExp(`^${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}$`));
    const digest = pinned.split("@")[1] ?? "";
    expect(cz.stderr).toContain(`newName: ${repo}`);
    expect(cz.stderr).toContain(`digest: ${digest}`);

    const certDir = mkdtempSync(join(work, "certs-"));
    tool(["cp", registry.caFile, join(certDir, "ca.crt")]);
    const inspected = JSON.parse(tool(["skopeo", "inspect", "--cert-dir", certDir, "--authfile", registry.authFile, `docker://${pinned}`])) as { Digest: string; Name: string; Labels: Record<string, string> | null };
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Name).toBe(repo);
    const byTag = JSON.parse(tool(["skopeo", "inspect", "--cert-dir", certDir, "--authfile", registry.authFile, `docker://${repo}:${tag.split(":")[1]}`])) as { Digest: string };
    expect(byTag.Digest).toBe(digest);

    const out = join(work, "k8s");
    const k8s = await bentoc(["k8s", tag, "--image", pinned, "--out", out], env);
    expect(k8s.code, k8s.stderr).toBe(0);
    for (const overlay of ["monolith", "split", "canary"]) {
      const rendered = spawnSync("kubectl", ["kustomize", join(out, "overlays", overlay)], { encoding: "utf8" });
      expect(rendered.status, rendered.stderr).toBe(0);
      const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as Record<string, any>);
      const deployments = objects.filter((o) => o["kind"] === "Deployment");
      expect(deployments.length).toBeGreaterThan(0);
      for (const d of deployments) for (const c of d["spec"].template.spec.containers) expect(c.image, `${overlay} ${d["metadata"].name}`).toBe(pinned);
      for (const obj of objects) expect(strictProblems(obj), `${overlay}: ${obj["kind"]} ${obj["metadata"]?.name}`).toEqual([]);
    }
    const again = await bentoc(["k8s", tag, "--image", pinned, "--out", out], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("exists and is not empty");
    const byTagOnly = await bentoc(["k8s", tag, "--image", `${repo}:latest`, "--out", join(work, "k8s2")], env);
    expect(byTagOnly.stderr).toContain("--image must name the image by digest");
  });

  it("the bento's sealed files are unchanged", async () => {
    const store = new BentoStore(home.home);
    for (const bento of await store.list()) await store.verify(bento);
  });
});
