/**
 * Runner-split on one machine: the API and its two runners (embedding, classifier) run as three separate
 * `bentoc` processes with exactly the args, env and mounted bentoc.yaml of the Deployments in the emitted
 * `k8s/overlays/split` (rendered by `kubectl kustomize`), with only cluster-specific values substituted
 * (image paths, ports, Service DNS names). The classifications through the split equal the monolith's; a
 * killed classifier runner makes the API answer 503 with a body naming that runner (not hang until the 504
 * timeout, never its address), and it recovers when the runner comes back.
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { compile } from "../../compiler/compile.ts";
import { freePort } from "../helpers/prometheus.ts";
import { prepareHome, removeDir, repoRoot, type ServedSample, serveSample, startBentoc, waitReady } from "../helpers/serve-sample.ts";

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
const RUNNERS = ["embedding", "classifier"] as const;
type RunnerName = (typeof RUNNERS)[number];

let home: string;
let outDir: string;
let work: string;
let monolith: ServedSample;
/** The monolith's answer to all TEXTS in one request, and to each alone. */
let expected: Classification[];
const children: ChildProcess[] = [];

interface Launch {
  args: string[];
  env: Record<string, string>;
  port: number;
}
let apiLaunch: Launch;
const runnerLaunch = {} as Record<RunnerName, Launch>;
const runnerUrl = {} as Record<RunnerName, string>;
const runnerDeployment = {} as Record<RunnerName, K8sObject>;

interface Classification {
  label: string;
  score: number;
  scores: Record<string, number>;
}

function deploymentLaunch(dep: K8sObject, configMaps: Map<string, string>, port: number, rewrite: (text: string) => string, dirName: string): Launch {
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
    for (const [mountPath, dir] of mounts) if (a.startsWith(`${mountPath}/`)) return dir + a.slice(mountPath.length);
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

async function classify(url: string, texts: string[]): Promise<Response> {
  return fetch(`${url}/classify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ texts }) });
}

async function results(url: string, texts: string[]): Promise<Classification[]> {
  const res = await classify(url, texts);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { results: Classification[] }).results;
}

function expectSameClassification(a: Classification, w: Classification): void {
  expect(a.label).toBe(w.label);
  expect(Math.abs(a.score - w.score)).toBeLessThan(1e-6);
  expect(Object.keys(a.scores)).toEqual(Object.keys(w.scores));
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
    throw new Error(`kubectl kustomize is needed to render the split overlay (bash scripts/install-kubectl.sh): ${(err as Error).message}`);
  }
  const objects = parseAllDocuments(rendered).map((d) => d.toJSON() as K8sObject);
  const configMaps = new Map(objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o.data?.["bentoc.yaml"] ?? ""]));
  const deployments = objects.filter((o) => o.kind === "Deployment");
  const api = deployments.find((d) => d.metadata.labels?.["app.kubernetes.io/component"] === "api");
  if (!api) throw new Error(`split overlay lacks the API Deployment: ${deployments.map((d) => d.metadata.name).join(", ")}`);
  expect(deployments).toHaveLength(1 + RUNNERS.length);

  // Cluster → laptop: each runner Service's DNS name becomes 127.0.0.1 and its port the runner's local
  // port; the image's model store becomes the temp store; listen on loopback only.
  const services: [string, string][] = [];
  for (const name of RUNNERS) {
    const dep = deployments.find((d) => d.metadata.labels?.["bentoc.dev/runner"] === name);
    const svc = objects.find((o) => o.kind === "Service" && o.metadata.labels?.["bentoc.dev/runner"] === name);
    if (!dep || !svc) throw new Error(`split overlay lacks the Deployment or Service of runner ${name}`);
    runnerDeployment[name] = dep;
    runnerUrl[name] = `http://127.0.0.1:${await freePort()}`;
    services.push([`http://${svc.metadata.name}:${svc.spec!.ports![0]!.port}`, runnerUrl[name]]);
  }
  const rewrite = (text: string) =>
    services
      .reduce((t, [inCluster, local]) => t.replaceAll(inCluster, local), text)
      .replaceAll("/bento/models", home)
      .replace(/^(\s*host:\s*)0\.0\.0\.0\s*$/m, "$1127.0.0.1");
  apiLaunch = deploymentLaunch(api, configMaps, await freePort(), rewrite, "api");
  for (const name of RUNNERS) runnerLaunch[name] = deploymentLaunch(runnerDeployment[name], configMaps, Number(new URL(runnerUrl[name]).port), rewrite, name);

  monolith = await serveSample("support-tickets", { home, outDir: join(work, "monolith") });
  expected = await results(monolith.url, TEXTS);
});

afterAll(async () => {
  await monolith?.stop();
  await Promise.all(children.map((c) => stop(c, "SIGKILL")));
  if (work) removeDir(work);
  if (home) removeDir(home);
});

describe("support-tickets split into API + two runner processes", () => {
  it("uses the commands the split Deployments run", () => {
    for (const name of RUNNERS) {
      expect(runnerLaunch[name].args.slice(0, 4)).toEqual(["serve-runner", outDir, "--runner", name]);
      expect(apiLaunch.env[`BENTOC_RUNNERS__${name.toUpperCase()}__URL`]).toBe(runnerUrl[name]);
      expect(runnerLaunch[name].env["BENTOC_HOME"]).toBe(home);
    }
    expect(apiLaunch.args[0]).toBe("serve");
    expect(apiLaunch.env["BENTOC_HOME"]).toBe(home);
    // Each runner Deployment asks for its decorator's resources (embedding: more memory).
    const requests = (name: RunnerName) =>
      (runnerDeployment[name].spec!.template!.spec.containers[0] as Container & { resources: { requests: object } }).resources.requests;
    expect(requests("embedding")).toEqual({ cpu: "2", memory: "2Gi" });
    expect(requests("classifier")).toEqual({ cpu: "500m", memory: "256Mi" });
  });

  it("classifies like the monolith, 503s naming the classifier runner while it is down, and recovers", async () => {
    const runners = {} as Record<RunnerName, { child: ChildProcess; output: () => string }>;
    for (const name of RUNNERS) {
      runners[name] = start(runnerLaunch[name]);
      await waitReady(runnerUrl[name], runners[name].child, runners[name].output);
    }
    const api = start(apiLaunch);
    const apiUrl = `http://127.0.0.1:${apiLaunch.port}`;
    await waitReady(apiUrl, api.child, api.output);

    // All texts in one request, and each alone, concurrently: each runner batches what reaches it; every
    // answer equals the monolith's, in order.
    const [together, ...alone] = await Promise.all([results(apiUrl, TEXTS), ...TEXTS.map((t) => results(apiUrl, [t]))]);
    expect(together).toHaveLength(TEXTS.length);
    together!.forEach((r, i) => {
      expectSameClassification(r, expected[i]!);
    });
    alone.forEach((r, i) => {
      expectSameClassification(r[0]!, expected[i]!);
    });
    for (const name of RUNNERS) {
      const metrics = await (await fetch(`${runnerUrl[name]}/metrics`)).text();
      const items = new RegExp(`bentoc_runner_adaptive_batch_size_sum\\{[^}]*runner_name="${name}"[^}]*\\} (\\d+)`).exec(metrics);
      expect(Number(items?.[1]), `${name} items`).toBe(2 * TEXTS.length);
    }

    // Kill the classifier runner: the API answers 503 (its own timeout would be a 504), naming the runner —
    // never its address, in the answer or in /readyz.
    const port = new URL(runnerUrl.classifier).port;
    await stop(runners.classifier.child, "SIGKILL");
    const down = await classify(apiUrl, [TEXTS[0]!]);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { code: string; error: string };
    expect(["runner_unavailable", "not_ready"]).toContain(body.code);
    expect(body.error).toContain("classifier");
    expect(JSON.stringify(body)).not.toContain(`127.0.0.1:${port}`);
    await expect.poll(async () => (await fetch(`${apiUrl}/readyz`)).status, { timeout: 30_000, interval: 100 }).toBe(503);
    const readyz = await (await fetch(`${apiUrl}/readyz`)).text();
    expect(readyz).toContain("classifier");
    expect(readyz).not.toContain(port);

    // Bring it back on the same address: the API recovers by itself.
    const again = start(runnerLaunch.classifier);
    await waitReady(runnerUrl.classifier, again.child, again.output);
    await expect.poll(async () => (await classify(apiUrl, [TEXTS[1]!])).status, { timeout: 30_000, interval: 100 }).toBe(200);
    (await results(apiUrl, TEXTS)).forEach((r, i) => {
      expectSameClassification(r, expected[i]!);
    });
    expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
  });
});
