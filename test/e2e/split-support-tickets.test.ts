/**
 * Runner-split on one machine: the API and the runner run as separate `bentoc` processes with exactly the
 * args, env and mounted bentoc.yaml of the Deployments in the emitted `k8s/overlays/split` (rendered by
 * `kubectl kustomize`), with only cluster-specific values substituted (image paths, ports, Service DNS
 * names). The classification through the split equals the monolith's; a killed runner makes the API
 * answer 503 with a body naming the runner (not hang until the 504 timeout), and it recovers when the
 * runner comes back.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.ts";
import { freePort } from "../helpers/prometheus.ts";
import { prepareHome, removeDir, repoRoot, serveSample, startBentoc, waitReady, type ServedSample } from "../helpers/serve-sample.ts";

interface Container {
  args: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  ports?: { containerPort: number }[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { ports?: { port: number }[]; template?: { spec: { containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] } } };
}

const TEXTS = ["I was charged twice for my subscription this month", "The app crashes when I upload a photo", "How do I change my password?", "hello"];

let home: string;
let outDir: string;
let work: string;
let monolith: ServedSample;
let expected: unknown[];
const children: ChildProcess[] = [];

interface Launch {
  args: string[];
  env: Record<string, string>;
  port: number;
}
let apiLaunch: Launch;
let runnerLaunch: Launch;
let runnerUrl: string;

function deploymentLaunch(
  dep: K8sObject,
  configMaps: Map<string, string>,
  port: number,
  rewrite: (text: string) => string,
  dirName: string,
): Launch {
  const pod = dep.spec!.template!.spec;
  const c = pod.containers[0]!;
  const mounts = new Map<string, string>();
  for (const m of c.volumeMounts ?? []) {
    const vol = pod.volumes?.find((v) => v.name === m.name);
    if (!vol?.configMap) continue;
    const data = configMaps.get(vol.configMap.name);
    if (data === undefined) throw new Error(`${dep.metadata.name}: ConfigMap ${vol.configMap.name} is not in the overlay`);
    const dir = join(work, dirName, m.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "bentoc.yaml"), rewrite(data));
    mounts.set(m.mountPath, dir);
  }
  const containerPort = String(c.ports?.[0]?.containerPort);
  const args = c.args.map((a, i) => {
    if (a === "/bento") return outDir; // the image's WORKDIR holding bento.json, service.mjs
    if (c.args[i - 1] === "--port" && a === containerPort) return String(port);
    for (const [mountPath, dir] of mounts) if (a.startsWith(mountPath + "/")) return dir + a.slice(mountPath.length);
    return a;
  });
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = rewrite(e.value);
  return { args, env, port };
}

function start(l: Launch): { child: ChildProcess; output: () => string } {
  const s = startBentoc(l.args, { BENTOC_LOG_LEVEL: "warn", ...l.env });
  children.push(s.child);
  return s;
}

async function classify(url: string, text: string): Promise<Response> {
  return fetch(`${url}/classify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }) });
}

function expectSameClassification(actual: unknown, want: unknown): void {
  const a = actual as { label: string; scores: Record<string, number> };
  const w = want as { label: string; scores: Record<string, number> };
  expect(a.label).toBe(w.label);
  expect(Object.keys(a.scores).sort()).toEqual(Object.keys(w.scores).sort());
  for (const k of Object.keys(w.scores)) expect(Math.abs(a.scores[k]! - w.scores[k]!)).toBeLessThan(1e-6);
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

beforeAll(async () => {
  home = await prepareHome(["support-tickets"]);
  work = mkdtempSync(join(tmpdir(), "bentoc-split-"));
  outDir = join(work, "bento");
  const result = await compile({ entry: join(repoRoot, "samples", "support-tickets"), outDir });
  if (!result.manifest) throw new Error(JSON.stringify(result.diagnostics));

  let rendered: string;
  try {
    rendered = execFileSync("kubectl", ["kustomize", join(outDir, "k8s", "overlays", "split")], { encoding: "utf8" });
  } catch (err) {
    throw new Error(`kubectl kustomize is needed to render the split overlay (install kubectl): ${(err as Error).message}`);
  }
  const objects = parseAllDocuments(rendered).map((d) => d.toJSON() as K8sObject);
  const configMaps = new Map(objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o.data?.["bentoc.yaml"] ?? ""]));
  const deployments = objects.filter((o) => o.kind === "Deployment");
  const api = deployments.find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === "api");
  const runner = deployments.find((d) => d.metadata.labels?.["bentoc.dev/runner"] === "ticket-classifier");
  if (!api || !runner) throw new Error(`split overlay lacks the API or runner Deployment: ${deployments.map((d) => d.metadata.name).join(", ")}`);
  const runnerService = objects.find((o) => o.kind === "Service" && o.metadata.labels?.["bentoc.dev/runner"] === "ticket-classifier")!;
  const servicePort = runnerService.spec!.ports![0]!.port;

  const apiPort = await freePort();
  const runnerPort = await freePort();
  runnerUrl = `http://127.0.0.1:${runnerPort}`;
  // Cluster → laptop: the Service DNS name becomes 127.0.0.1 and its port the runner's local port; the
  // image's model store becomes the temp store; listen on loopback only.
  const rewrite = (text: string) =>
    text
      .replaceAll(`http://${runnerService.metadata.name}:${servicePort}`, runnerUrl)
      .replaceAll("/bento/models", home)
      .replace(/^(\s*host:\s*)0\.0\.0\.0\s*$/m, "$1127.0.0.1");
  apiLaunch = deploymentLaunch(api, configMaps, apiPort, rewrite, "api");
  runnerLaunch = deploymentLaunch(runner, configMaps, runnerPort, rewrite, "runner");

  monolith = await serveSample("support-tickets", { home, outDir: join(work, "monolith") });
  expected = [];
  for (const t of TEXTS) expected.push(await (await classify(monolith.url, t)).json());
});

afterAll(async () => {
  await monolith?.stop();
  await Promise.all(children.map((c) => stop(c, "SIGKILL")));
  if (work) removeDir(work);
  if (home) removeDir(home);
});

describe("support-tickets split into API + runner processes", () => {
  it("uses the commands the split Deployments run", () => {
    expect(runnerLaunch.args.slice(0, 4)).toEqual(["serve-runner", outDir, "--runner", "ticket-classifier"]);
    expect(apiLaunch.args[0]).toBe("serve");
    expect(apiLaunch.env["BENTOC_RUNNERS__TICKET_CLASSIFIER__URL"]).toBe(runnerUrl);
    expect(apiLaunch.env["BENTOC_HOME"]).toBe(home);
  });

  it("classifies like the monolith, 503s with a clear body while the runner is down, and recovers", async () => {
    const r1 = start(runnerLaunch);
    await waitReady(runnerUrl, r1.child, r1.output);
    const api = start(apiLaunch);
    const apiUrl = `http://127.0.0.1:${apiLaunch.port}`;
    await waitReady(apiUrl, api.child, api.output);

    // Concurrent calls: the runner batches them; each result equals the monolith's.
    const split = await Promise.all(TEXTS.map(async (t) => {
      const res = await classify(apiUrl, t);
      expect(res.status).toBe(200);
      return res.json();
    }));
    split.forEach((s, i) => expectSameClassification(s, expected[i]));
    const runnerMetrics = await (await fetch(`${runnerUrl}/metrics`)).text();
    expect(runnerMetrics).toMatch(/bentoc_runner_adaptive_batch_size_count\{[^}]*runner_name="ticket-classifier"[^}]*\} [1-9]/);

    // Kill the runner: the API answers 503 (its own timeout would be a 504), naming the runner — never its
    // address, in the answer or in /readyz.
    await stop(r1.child, "SIGKILL");
    const down = await classify(apiUrl, TEXTS[0]!);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { code: string; error: string };
    expect(["runner_unavailable", "not_ready"]).toContain(body.code);
    expect(JSON.stringify(body)).toContain("ticket-classifier");
    expect(JSON.stringify(body)).not.toContain(`127.0.0.1:${new URL(runnerUrl).port}`);
    await expect.poll(async () => (await fetch(`${apiUrl}/readyz`)).status, { timeout: 30_000, interval: 100 }).toBe(503);
    expect(await (await fetch(`${apiUrl}/readyz`)).text()).not.toContain(new URL(runnerUrl).port);

    // Bring it back on the same address: the API recovers by itself.
    const r2 = start(runnerLaunch);
    await waitReady(runnerUrl, r2.child, r2.output);
    await expect.poll(async () => (await classify(apiUrl, TEXTS[1]!)).status, { timeout: 30_000, interval: 100 }).toBe(200);
    expectSameClassification(await (await classify(apiUrl, TEXTS[1]!)).json(), expected[1]);
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
  });
});
