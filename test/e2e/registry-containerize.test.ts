/**
 * `bentoc containerize TAG --push REF` against a real registry (docker-registry with htpasswd and TLS,
 * test/helpers/registry.ts): the image is built with buildah on the local base image, pushed with
 * `buildah push --digestfile`, and `skopeo inspect` finds it at the printed digest. Then `bentoc k8s TAG
 * --image REF@sha256:… --out DIR` writes the kustomize tree pinned by digest: `kubectl kustomize` renders
 * every overlay with that image, each object valid against the Kubernetes schemas, and the bento's own
 * sealed files are unchanged. Then the models at pod start: the image built `--without-models` and pushed,
 * the models pushed with `bentoc models push`, `bentoc k8s --models-from` pins them by digests it computes
 * offline (equal to the pushed ones), every overlay renders and passes the schema checks, and the pod is
 * played with podman as Kubernetes would run it: the rendered init container (its args, env and mounts,
 * read-only root, uid 10001) pulls the models from the registry into a directory standing for the emptyDir,
 * then the serving container, with that directory mounted read-only at /bento/models, classifies.
 * With CI=true missing tools fail the test; elsewhere it is skipped.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { BentoStore } from "../../bento/bento-store.ts";
import { which } from "../../bento/containerize.ts";
import { containersConf, containerToolsMissing, ensureBaseImage, TEST_BASE_IMAGE, tool, ulimitFlags } from "../helpers/container-base.ts";
import { freePort } from "../helpers/prometheus.ts";
import { registryToolsMissing, startRegistry, type TestRegistry } from "../helpers/registry.ts";
import { runBentoc as bentoc, copySample, homeWithModel } from "../unit/bento/sample-copy.ts";
import { strictProblems } from "../unit/k8s/kubernetes-schema.ts";

const missing =
  [registryToolsMissing(), containerToolsMissing(), ...["skopeo", "kubectl"].map((t) => (which(t) === null ? `${t} not installed` : null))]
    .filter((m) => m !== null)
    .join("; ") || null;
if (missing && process.env["CI"] === "true") throw new Error(`the containerize --push test needs its tools in CI: ${missing}`);
if (missing) console.warn(`skipping the containerize --push test: ${missing}`);

describe.skipIf(missing !== null)("containerize --push, then deploy by digest", () => {
  let registry: TestRegistry;
  let sample: ReturnType<typeof copySample>;
  let home: ReturnType<typeof homeWithModel>;
  let work: string;
  let tag = "";
  const image = `localhost/bentoc-e2e-push:${process.pid}-${Date.now().toString(36)}`;
  const slimImage = `${image}-no-models`;
  const podmanEnv: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: containersConf() };
  const containers: string[] = [];

  beforeAll(async () => {
    ensureBaseImage();
    registry = await startRegistry();
    sample = copySample();
    home = homeWithModel();
    work = mkdtempSync(join(tmpdir(), "bentoc-push-"));
  });

  afterAll(async () => {
    for (const c of containers) spawnSync("podman", ["rm", "-f", c], { env: podmanEnv });
    spawnSync("buildah", ["rmi", image]);
    spawnSync("buildah", ["rmi", slimImage]);
    await registry?.stop();
    sample?.cleanup();
    home?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("pushes the image, skopeo inspect shows it by digest, and the pinned kustomize tree is valid", async () => {
    const env = { BENTOC_HOME: home.home, REGISTRY_AUTH_FILE: registry.authFile };
    const built = await bentoc(["build", sample.dir], env);
    expect(built.code, built.stderr).toBe(0);
    tag = built.stdout.trim();
    const repo = `${registry.host}/team/support-tickets-image`;

    const cz = await bentoc(
      ["containerize", tag, "--backend", "buildah", "-t", image, "--build-arg", `BASE_IMAGE=${TEST_BASE_IMAGE}`, "--push", repo, "--ca-file", registry.caFile],
      env,
    );
    expect(cz.code, cz.stderr.slice(-3000)).toBe(0);
    expect(cz.stderr).toContain(`buildah push --digestfile`);
    const pinned = cz.stdout.trim().split("\n").at(-1) ?? "";
    expect(pinned).toMatch(new RegExp(`^${repo.replace(/\./g, "\\.")}@sha256:[0-9a-f]{64}$`));
    const digest = pinned.split("@")[1] ?? "";
    expect(cz.stderr).toContain(`newName: ${repo}`);
    expect(cz.stderr).toContain(`digest: ${digest}`);

    const certDir = mkdtempSync(join(work, "certs-"));
    tool(["cp", registry.caFile, join(certDir, "ca.crt")]);
    const inspected = JSON.parse(tool(["skopeo", "inspect", "--cert-dir", certDir, "--authfile", registry.authFile, `docker://${pinned}`])) as {
      Digest: string;
      Name: string;
      Labels: Record<string, string> | null;
    };
    expect(inspected.Digest).toBe(digest);
    expect(inspected.Name).toBe(repo);
    const byTag = JSON.parse(tool(["skopeo", "inspect", "--cert-dir", certDir, "--authfile", registry.authFile, `docker://${repo}:${tag.split(":")[1]}`])) as {
      Digest: string;
    };
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

  it("models at pod start: an image without models, an init container pulling them by digest (played with podman)", async () => {
    expect(tag).not.toBe("");
    const env = { BENTOC_HOME: home.home, REGISTRY_AUTH_FILE: registry.authFile };
    const tls = ["--ca-file", registry.caFile];
    const bento = await new BentoStore(home.home).get(tag);
    const pushedModels: string[] = [];
    for (const model of bento.models) {
      const pushed = await bentoc(["models", "push", model, `${registry.host}/team/${model.split(":")[0]}`, ...tls], env);
      expect(pushed.code, pushed.stderr).toBe(0);
      pushedModels.push(pushed.stdout.trim());
    }

    const cz = await bentoc(
      [
        "containerize",
        tag,
        "--backend",
        "buildah",
        "--without-models",
        "-t",
        slimImage,
        "--build-arg",
        `BASE_IMAGE=${TEST_BASE_IMAGE}`,
        "--push",
        `${registry.host}/team/support-tickets-slim`,
        ...tls,
      ],
      env,
    );
    expect(cz.code, cz.stderr.slice(-3000)).toBe(0);
    expect(cz.stdout + cz.stderr).toMatch(/STEP \d+\/\d+: COPY bento\.json/);
    expect(cz.stdout + cz.stderr).not.toMatch(/STEP \d+\/\d+: COPY models\//);
    const pinned = cz.stdout.trim().split("\n").at(-1) ?? "";
    expect(pinned).toMatch(/@sha256:[0-9a-f]{64}$/);
    const hasModels = spawnSync(
      "podman",
      ["run", "--rm", ...ulimitFlags(), "--entrypoint", "node", slimImage, "-e", "process.stdout.write(String(require('fs').existsSync('/bento/models')))"],
      { env: podmanEnv, encoding: "utf8" },
    );
    expect(hasModels.stdout, hasModels.stderr).toBe("false");

    const out = join(work, "k8s-models-from");
    const k8s = await bentoc(["k8s", tag, "--image", pinned, "--models-from", `${registry.host}/team`, "--out", out], env);
    expect(k8s.code, k8s.stderr).toBe(0);
    // the digests bentoc k8s computed offline are the ones the pushes printed
    for (const ref of pushedModels) expect(k8s.stderr).toContain(ref);

    const rendered: Record<string, Record<string, any>[]> = {};
    for (const overlay of ["monolith", "split", "canary"]) {
      const r = spawnSync("kubectl", ["kustomize", join(out, "overlays", overlay)], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      rendered[overlay] = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any>);
      for (const obj of rendered[overlay]!) expect(strictProblems(obj), `${overlay}: ${obj["kind"]} ${obj["metadata"]?.name}`).toEqual([]);
      for (const d of rendered[overlay]!.filter((o) => o["kind"] === "Deployment")) {
        const spec = d["spec"].template.spec;
        const loadsModels = overlay !== "split" || d["metadata"].labels["app.kubernetes.io/component"] === "runner";
        expect((spec.initContainers ?? []).length, `${overlay} ${d["metadata"].name}`).toBe(loadsModels ? 1 : 0);
        if (!loadsModels) continue;
        expect(spec.initContainers[0].image).toBe(pinned);
        expect(spec.initContainers[0].args).toEqual(["models", "pull", ...pushedModels]);
        expect(spec.containers[0].volumeMounts).toContainEqual({ name: "models", mountPath: "/bento/models", readOnly: true });
      }
    }

    // the monolith's pod, played by podman: volumes become host directories
    const deployment = rendered["monolith"]!.find((o) => o["kind"] === "Deployment")!;
    const podSpec = deployment["spec"].template.spec;
    const volumeDirs: Record<string, string> = {};
    for (const v of podSpec.volumes as { name: string }[]) {
      volumeDirs[v.name] = mkdtempSync(join(work, `vol-${v.name}-`));
      chmodSync(volumeDirs[v.name]!, 0o777); // an emptyDir is writable by the pod's fsGroup
    }
    // the Secret <service>-registry: auth.json and ca.crt
    copyFileSync(registry.authFile, join(volumeDirs["registry"]!, "auth.json"));
    copyFileSync(registry.caFile, join(volumeDirs["registry"]!, "ca.crt"));
    const podmanArgs = (c: { env?: { name: string; value?: string }[]; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }) => [
      "--network",
      "host",
      "--read-only",
      "--user",
      "10001:10001",
      ...ulimitFlags(),
      ...(c.env ?? []).filter((e) => e.value !== undefined).flatMap((e) => ["-e", `${e.name}=${e.value}`]),
      ...(c.volumeMounts ?? []).filter((m) => m.name !== "config").flatMap((m) => ["-v", `${volumeDirs[m.name]}:${m.mountPath}${m.readOnly ? ":ro" : ""}`]),
    ];
    const init = podSpec.initContainers[0];
    const pulled = spawnSync("podman", ["run", "--rm", ...podmanArgs(init), slimImage, ...init.args], { env: podmanEnv, encoding: "utf8" });
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(pulled.stdout.trim().split("\n")).toEqual(bento.models);

    const api = podSpec.containers[0];
    const port = await freePort();
    const id = tool(
      ["podman", "run", "-d", "--no-healthcheck", ...podmanArgs(api), slimImage, "serve", "/bento", "--port", String(port), "--host", "127.0.0.1"],
      podmanEnv,
    ).trim();
    containers.push(id);
    let ready = 0;
    for (let i = 0; i < 1200 && ready !== 200; i++) {
      const state = tool(["podman", "inspect", "-f", "{{.State.Running}}", id], podmanEnv).trim();
      if (state !== "true") throw new Error(`container exited:\n${tool(["podman", "logs", id], podmanEnv)}`);
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(200);
    const res = await fetch(`http://127.0.0.1:${port}/classify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ texts: ["I was charged twice for my subscription this month", "cannot log in"] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { results: { label: string }[] }).results).toHaveLength(2); // a result per text, through both runners
  });

  it("the bento's sealed files are unchanged", async () => {
    const store = new BentoStore(home.home);
    for (const bento of await store.list()) await store.verify(bento);
  });
});
