/**
 * The real container test: build the support-tickets bento (tiny models), containerize it with buildah on
 * a local base image made from this host's node (no registry can be reached), run it with podman, get 200
 * from /readyz and a real classification; then make a code-only change, rebuild, and check in buildah's
 * output that the dependency and model layers came from the cache and only the code layer was rebuilt.
 * With CI=true missing tools fail the test; elsewhere it is skipped with the reason.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containersConf, containerToolsMissing, ensureBaseImage, TEST_BASE_IMAGE, tool, ulimitFlags } from "../helpers/container-base.ts";
import { CLI, copySample, homeWithModel } from "../unit/bento/sample-copy.ts";

const missing = containerToolsMissing();
if (missing && process.env["CI"] === "true") throw new Error(`container test needs buildah and podman in CI: ${missing}`);
if (missing) console.warn(`skipping the container test: ${missing}`);

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code: code ?? 1, output }));
  });
}

/** buildah's `STEP i/n: INSTRUCTION` lines, each with whether it reused a cached layer. */
export function parseSteps(output: string): { step: string; cached: boolean }[] {
  const steps: { step: string; cached: boolean }[] = [];
  let current: { step: string; cached: boolean } | null = null;
  for (const line of output.split("\n")) {
    const m = /^(?:\[\d+\/\d+\] )?STEP \d+\/\d+: (.*)$/.exec(line);
    if (m) {
      current = { step: m[1] ?? "", cached: false };
      steps.push(current);
    } else if (current && /^--> Using cache [0-9a-f]+/.test(line)) {
      current.cached = true;
    }
  }
  return steps;
}

function stepCached(steps: { step: string; cached: boolean }[], prefix: string): boolean {
  const found = steps.filter((s) => s.step.startsWith(prefix));
  if (found.length === 0) throw new Error(`no build step starting with ${prefix}:\n${steps.map((s) => s.step).join("\n")}`);
  return found.every((s) => s.cached);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

describe.skipIf(missing !== null)("containerize support-tickets", () => {
  let sample: ReturnType<typeof copySample>;
  let home: ReturnType<typeof homeWithModel>;
  let env: NodeJS.ProcessEnv;
  const podmanEnv: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: containersConf() };
  const suffix = `${process.pid}-${Date.now().toString(36)}`;
  const images = [`localhost/bentoc-e2e-support-tickets:${suffix}-a`, `localhost/bentoc-e2e-support-tickets:${suffix}-b`];
  const containers: string[] = [];
  const dangling = () => new Set(tool(["buildah", "images", "-q", "--filter", "dangling=true"]).split("\n").filter(Boolean));
  let danglingBefore = new Set<string>();

  beforeAll(() => {
    ensureBaseImage();
    danglingBefore = dangling();
    sample = copySample();
    home = homeWithModel();
    env = { ...process.env, BENTOC_HOME: home.home };
  });

  afterAll(() => {
    for (const c of containers) spawnQuiet(["podman", "rm", "-f", c], podmanEnv);
    for (const i of images) spawnQuiet(["buildah", "rmi", i], podmanEnv);
    // the deps stage's intermediate images this test left behind (not anybody else's)
    for (const i of dangling()) if (!danglingBefore.has(i)) spawnQuiet(["buildah", "rmi", i], podmanEnv);
    sample?.cleanup();
    home?.cleanup();
  });

  async function buildAndContainerize(image: string): Promise<{ tag: string; steps: { step: string; cached: boolean }[]; output: string }> {
    const built = await run(["build", sample.dir], env);
    expect(built.code, built.output).toBe(0);
    const tag = built.output.trim().split("\n").at(-1) ?? "";
    const cz = await run(["containerize", tag, "--backend", "buildah", "-t", image, "--build-arg", `BASE_IMAGE=${TEST_BASE_IMAGE}`], env);
    expect(cz.code, cz.output).toBe(0);
    expect(cz.output).toContain(`buildah bud --isolation chroot --network host --layers --format docker --pull-never`);
    return { tag, steps: parseSteps(cz.output), output: cz.output };
  }

  it("builds, runs and classifies; a code-only change rebuilds only the code layer", async () => {
    const first = await buildAndContainerize(images[0]!);
    expect(first.steps.length).toBeGreaterThan(10);

    const port = await freePort();
    const id = tool(
      [
        "podman",
        "run",
        "-d",
        "--network",
        "host",
        ...ulimitFlags(),
        "--no-healthcheck",
        images[0]!,
        "serve",
        "/bento",
        "--port",
        String(port),
        "--host",
        "127.0.0.1",
      ],
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
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { label: string; score: number; scores: Record<string, number> }[] };
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(["billing", "bug", "account", "other"]).toContain(r.label);
      expect(Object.keys(r.scores).sort()).toEqual(["account", "billing", "bug", "other"]);
      expect(r.score).toBe(r.scores[r.label]);
      expect(Object.values(r.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    // the image runs as the non-root user and holds the bento's pinned models
    expect(tool(["podman", "exec", id, "node", "-e", "console.log(process.getuid())"], podmanEnv).trim()).toBe("10001");
    tool(["podman", "rm", "-f", id], podmanEnv);

    // a code-only change: one doc comment
    const service = join(sample.dir, "service.ts");
    writeFileSync(
      service,
      readFileSync(service, "utf8").replace("/** The labels this service can predict. */", "/** The labels this service can predict (all four). */"),
    );
    const second = await buildAndContainerize(images[1]!);
    expect(second.tag).not.toBe(first.tag);
    const s = second.steps;
    expect(stepCached(s, "COPY package.json package-lock.json bentoc-"), second.output).toBe(true);
    expect(stepCached(s, 'RUN ["node", "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "ci"'), second.output).toBe(true);
    expect(stepCached(s, "COPY --from=deps"), second.output).toBe(true);
    expect(stepCached(s, "COPY models/"), second.output).toBe(true);
    expect(stepCached(s, "COPY bento.json openapi.json service.mjs"), second.output).toBe(false);
    // nothing after the code layer can come from the cache either: only code-layer steps ran
    const codeIndex = s.findIndex((x) => x.step.startsWith("COPY bento.json"));
    expect(s.slice(0, codeIndex).every((x) => x.cached || x.step.startsWith("FROM"))).toBe(true);
  });
});

function spawnQuiet(argv: string[], env: NodeJS.ProcessEnv): void {
  try {
    tool(argv, env);
  } catch {
    // best effort cleanup
  }
}
