import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { emitKubernetes, runnerUrl } from "../../../compiler/emit/k8s/emit-kubernetes.ts";
import { parseCpuMillis, parseMemoryBytes, sumResources } from "../../../compiler/emit/k8s/quantity.ts";
import type { Manifest } from "../../../sdk/manifest.ts";
import { findTool, run, toolPath } from "./external-tool.ts";
import { schemaErrors, strictProblems, unknownFields } from "./kubernetes-schema.ts";
import { loadManifest, SAMPLE_NAMES } from "./sample-manifests.ts";

type Obj = Record<string, any>;

const kubectl = findTool("kubectl");
const promtool = findTool("promtool");
const tmpRoot = mkdtempSync(join(tmpdir(), "bentoc-k8s-"));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

function writeTree(files: Record<string, string>, dir: string): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** The Kubernetes objects written as plain YAML (not kustomizations, patches or bentoc.yaml). */
function emittedObjects(files: Record<string, string>): { file: string; obj: Obj }[] {
  return Object.entries(files)
    .filter(([path]) => path.endsWith(".yaml") && !/(kustomization|bentoc|api-patch)\.yaml$/.test(path))
    .flatMap(([file, text]) => parseAllDocuments(text).map((doc) => ({ file, obj: doc.toJS() as Obj })));
}

function kustomize(files: Record<string, string>, overlay: string, name: string): Obj[] {
  const dir = writeTree(files, join(tmpRoot, name));
  const result = run(toolPath(kubectl), ["kustomize", join(dir, "k8s/overlays", overlay)]);
  expect(result.stderr, `kubectl kustomize ${overlay}`).toBe("");
  expect(result.status).toBe(0);
  return parseAllDocuments(result.stdout).map((d) => d.toJS() as Obj);
}

const OVERLAYS = ["monolith", "split", "canary"] as const;

describe.each(SAMPLE_NAMES)("emitKubernetes(%s)", (name) => {
  const manifest = loadManifest(name);
  const files = emitKubernetes(manifest);

  it("writes a base and three overlays, each with a kustomization", () => {
    for (const dir of ["base", ...OVERLAYS.map((o) => `overlays/${o}`)]) expect(files).toHaveProperty([`k8s/${dir}/kustomization.yaml`]);
  });

  it("is deterministic and reads nothing but the manifest", () => {
    expect(emitKubernetes(structuredClone(manifest))).toEqual(files);
    expect(Object.keys(files)).toEqual([...Object.keys(files)].sort());
  });

  it("every emitted object validates strictly against its Kubernetes / prometheus-operator schema", () => {
    const objects = emittedObjects(files);
    expect(objects.length).toBeGreaterThanOrEqual(6);
    for (const { file, obj } of objects) expect(strictProblems(obj), `${file} ${obj["kind"]}`).toEqual([]);
  });

  it.skipIf(kubectl.skip).each(OVERLAYS)("kubectl kustomize %s succeeds and renders only valid objects", (overlay) => {
    const objects = kustomize(files, overlay, `${name}-${overlay}`);
    for (const obj of objects) expect(strictProblems(obj), `${overlay}: ${obj["kind"]} ${obj["metadata"]?.name}`).toEqual([]);
    const kinds = objects.map((o) => o["kind"]).sort();
    if (overlay === "canary") expect(kinds).toEqual(["ConfigMap", "Deployment"]);
    else
      expect(kinds).toEqual(
        expect.arrayContaining(["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PrometheusRule", "Service", "ServiceMonitor"]),
      );
    // Every Deployment runs the overlay's image and mounts a ConfigMap that the overlay really contains.
    const configMaps = new Set(objects.filter((o) => o["kind"] === "ConfigMap").map((o) => o["metadata"].name));
    for (const d of objects.filter((o) => o["kind"] === "Deployment")) {
      const pod = d["spec"].template.spec;
      expect(pod.containers[0].image).toBe(`${manifest.service.name}:${manifest.service.version}`);
      const volume = pod.volumes.find((v: Obj) => v["name"] === "config");
      expect(configMaps.has(volume.configMap.name), `${d["metadata"].name} mounts ${volume.configMap.name}`).toBe(true);
    }
  });

  it.skipIf(kubectl.skip)("split: the API reaches each runner through the config and env, and the NetworkPolicy admits API pods", () => {
    const objects = kustomize(files, "split", `${name}-split-wiring`);
    const api = objects.find((o) => o["kind"] === "Deployment" && o["metadata"].name === manifest.service.name)!;
    const apiPod = api["spec"].template.spec;
    const apiConfigName = apiPod.volumes.find((v: Obj) => v["name"] === "config").configMap.name;
    const apiConfig = parse(objects.find((o) => o["kind"] === "ConfigMap" && o["metadata"].name === apiConfigName)!["data"]["bentoc.yaml"]);
    const services = objects.filter((o) => o["kind"] === "Service");
    for (const runner of manifest.runners) {
      const url = runnerUrl(manifest, runner.name);
      expect(apiConfig.runners[runner.name].url).toBe(url);
      expect(apiPod.containers[0].env).toContainEqual({ name: `BENTOC_RUNNERS__${runner.name.toUpperCase().replace(/-/g, "_")}__URL`, value: url });
      const host = new URL(url).hostname;
      const svc = services.find((s) => s["metadata"].name === host)!;
      expect(svc, `Service ${host}`).toBeDefined();
      expect(svc["spec"].ports[0].port).toBe(Number(new URL(url).port));
      const dep = objects.find((o) => o["kind"] === "Deployment" && o["metadata"].name === host)!;
      expect(dep["spec"].template.spec.containers[0].args).toEqual([
        "serve-runner",
        "/bento",
        "--runner",
        runner.name,
        "--port",
        "3001",
        "--config",
        "/etc/bentoc/bentoc.yaml",
      ]);
      // The runner Service selects exactly this runner's pods.
      const podLabels = dep["spec"].template.metadata.labels;
      for (const [k, v] of Object.entries(svc["spec"].selector)) expect(podLabels[k]).toBe(v);
      const others = objects.filter((o) => o["kind"] === "Deployment" && o !== dep);
      for (const other of others) expect(Object.entries(svc["spec"].selector).every(([k, v]) => other["spec"].template.metadata.labels[k] === v)).toBe(false);
      expect(objects.some((o) => o["kind"] === "HorizontalPodAutoscaler" && o["spec"].scaleTargetRef.name === host)).toBe(true);
      expect(objects.some((o) => o["kind"] === "ServiceMonitor" && o["metadata"].name === host)).toBe(true);
    }
    if (manifest.runners.length > 0) {
      const policy = objects.find((o) => o["kind"] === "NetworkPolicy")!;
      const matches = (sel: Obj, labels: Obj) => Object.entries(sel).every(([k, v]) => labels[k] === v);
      const runnerDeps = objects.filter((o) => o["kind"] === "Deployment" && o !== api);
      for (const d of runnerDeps) expect(matches(policy["spec"].podSelector.matchLabels, d["spec"].template.metadata.labels)).toBe(true);
      expect(matches(policy["spec"].podSelector.matchLabels, api["spec"].template.metadata.labels)).toBe(false);
      const fromApi = policy["spec"].ingress[0].from[0].podSelector.matchLabels;
      expect(matches(fromApi, api["spec"].template.metadata.labels)).toBe(true);
      for (const d of runnerDeps) expect(matches(fromApi, d["spec"].template.metadata.labels)).toBe(false);
    }
  });

  it.skipIf(kubectl.skip)("the image option reaches every Deployment of every overlay through kustomize images:", () => {
    const image = `registry.example.com:5000/ml/${name}:build-7`;
    const withImage = emitKubernetes(manifest, { image });
    for (const overlay of OVERLAYS) {
      const deployments = kustomize(withImage, overlay, `${name}-${overlay}-image`).filter((o) => o["kind"] === "Deployment");
      expect(deployments.length).toBeGreaterThan(0);
      for (const d of deployments) expect(d["spec"].template.spec.containers[0].image, `${overlay} ${d["metadata"].name}`).toBe(image);
    }
  });

  it.skipIf(promtool.skip)("promtool check rules accepts the PrometheusRule's groups", () => {
    const rule = emittedObjects(files).find(({ obj }) => obj["kind"] === "PrometheusRule")!.obj;
    const path = join(tmpRoot, `${name}-rules.yaml`);
    writeFileSync(path, JSON.stringify(rule["spec"]));
    const result = run(toolPath(promtool), ["check", "rules", path]);
    expect(result.stdout + result.stderr).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});

describe("Deployment contents (support-tickets monolith and split: two runners)", () => {
  const manifest = loadManifest("support-tickets");
  const files = emitKubernetes(manifest);
  const objects = emittedObjects(files);
  const deployments = objects.filter(({ obj }) => obj["kind"] === "Deployment").map(({ obj }) => obj);

  it("has the probes, hardening, termination and labels every pod needs", () => {
    expect(deployments.length).toBe(4); // monolith, embedding runner, classifier runner, canary
    for (const d of deployments) {
      const pod = d["spec"].template.spec;
      const c = pod.containers[0];
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } });
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
      expect(pod.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "1Gi" } });
      const startupBudget = c.startupProbe.periodSeconds * c.startupProbe.failureThreshold;
      expect(startupBudget).toBeGreaterThanOrEqual(300);
      expect(d["spec"].progressDeadlineSeconds).toBeGreaterThan(startupBudget);
      // SIGTERM comes after the pre-stop sleep; the drain (30 s by default) must finish before SIGKILL.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(c.lifecycle.preStop.sleep.seconds + 30);
      const labels = d["metadata"].labels;
      for (const k of ["name", "instance", "version", "component", "part-of", "managed-by"]) expect(labels).toHaveProperty([`app.kubernetes.io/${k}`]);
      expect(labels["app.kubernetes.io/managed-by"]).toBe("bentoc");
      // The version label must stay out of the (immutable) selector.
      expect(d["spec"].selector.matchLabels).not.toHaveProperty(["app.kubernetes.io/version"]);
    }
    const api = deployments.find((d) => d["metadata"].name === "support-tickets")!;
    const c = api["spec"].template.spec.containers[0];
    expect(c.args).toEqual(["serve", "/bento", "--port", "3000", "--config", "/etc/bentoc/bentoc.yaml"]);
    expect(c.livenessProbe.httpGet.path).toBe("/livez");
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(api["spec"]).not.toHaveProperty(["replicas"]); // the HPA owns it
  });

  it("monolith requests the sum of the API and runner resources; each runner its own", () => {
    const api = deployments.find((d) => d["metadata"].name === "support-tickets")!;
    // API default 500m/512Mi + embedding 2 CPU / 2Gi + classifier 500m / 256Mi
    expect(api["spec"].template.spec.containers[0].resources).toEqual({
      limits: { cpu: "3", memory: "2816Mi" },
      requests: { cpu: "3", memory: "2816Mi" },
    });
    const requests = (runner: string) =>
      deployments.find((d) => d["metadata"].name === `support-tickets-runner-${runner}`)!["spec"].template.spec.containers[0].resources.requests;
    expect(requests("embedding")).toEqual({ cpu: "2", memory: "2Gi" });
    expect(requests("classifier")).toEqual({ cpu: "500m", memory: "256Mi" });
  });

  it("each runner's autoscaler has the replica range of its decorator's scaling option; the API keeps its own", () => {
    const hpas = objects.filter(({ obj }) => obj["kind"] === "HorizontalPodAutoscaler").map(({ obj }) => obj);
    const range = (name: string) => {
      const h = hpas.find((o) => o["metadata"].name === name)!;
      expect(h["spec"].scaleTargetRef.name).toBe(name);
      return [h["spec"].minReplicas, h["spec"].maxReplicas];
    };
    expect(manifest.runners.map((r) => [r.name, r.scaling])).toEqual([
      ["classifier", { minReplicas: 1, maxReplicas: 5 }],
      ["embedding", { minReplicas: 1, maxReplicas: 8 }],
    ]);
    expect(range("support-tickets-runner-embedding")).toEqual([1, 8]);
    expect(range("support-tickets-runner-classifier")).toEqual([1, 5]);
    expect(range("support-tickets")).toEqual([2, 10]);
  });

  it("canary: second track with its own labels and replicas, selected by the stable Service but not by the stable Deployment", () => {
    const canary = deployments.find((d) => d["metadata"].name === "support-tickets-canary")!;
    const stable = deployments.find((d) => d["metadata"].name === "support-tickets")!;
    const svc = objects.find(({ obj }) => obj["kind"] === "Service" && obj["metadata"].name === "support-tickets")!.obj;
    const canaryLabels = canary["spec"].template.metadata.labels;
    expect(canaryLabels).toMatchObject({ track: "canary", "app.kubernetes.io/version": "1.0.0" });
    expect(canary["spec"].replicas).toBe(1);
    const selects = (sel: Obj, labels: Obj) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    expect(selects(svc["spec"].selector, canaryLabels)).toBe(true);
    expect(selects(svc["spec"].selector, stable["spec"].template.metadata.labels)).toBe(true);
    expect(selects(stable["spec"].selector.matchLabels, canaryLabels)).toBe(false);
    expect(files["k8s/overlays/canary/kustomization.yaml"]).toMatch(/1 canary : 9 stable = 10%/);
  });
});

describe("secrets, GPU, labels and options (fraud-scorer)", () => {
  const manifest = loadManifest("fraud-scorer");

  it("gives the runner's autoscaler the manifest's replica range", () => {
    const hpa = parseAllDocuments(emitKubernetes(manifest)["k8s/overlays/split/runner-gbdt.yaml"]!)
      .map((d) => d.toJS())
      .find((o) => o.kind === "HorizontalPodAutoscaler");
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 6]);
  });

  it("maps each declared secret by secretKeyRef, on the API only", () => {
    const files = emitKubernetes(manifest);
    const api = parse(files["k8s/base/deployment.yaml"]!);
    const env = api.spec.template.spec.containers[0].env;
    for (const key of manifest.service.secrets) {
      expect(env).toContainEqual({ name: key, valueFrom: { secretKeyRef: { name: "fraud-scorer-secrets", key, optional: false } } });
    }
    const runner = parseAllDocuments(files["k8s/overlays/split/runner-gbdt.yaml"]!)[0]!.toJS();
    expect(JSON.stringify(runner)).not.toContain("secretKeyRef");
  });

  it("puts the GPU runner's nvidia.com/gpu in limits and tolerates GPU nodes; the split API drops both", () => {
    const files = emitKubernetes(manifest);
    const runner = parseAllDocuments(files["k8s/overlays/split/runner-gbdt.yaml"]!)[0]!.toJS();
    const pod = runner.spec.template.spec;
    expect(pod.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(pod.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    const patch = parse(files["k8s/overlays/split/api-patch.yaml"]!);
    expect(patch).toContainEqual({ op: "remove", path: "/spec/template/spec/tolerations" });
    expect(patch[0].value).toEqual({ limits: { cpu: "250m", memory: "256Mi" }, requests: { cpu: "250m", memory: "256Mi" } });
  });

  it("copies the service's labels, and takes the image and effective config from the options", () => {
    const files = emitKubernetes(manifest, {
      image: "registry.example.com:5000/ml/fraud-scorer:2.3.1-rc1",
      config: { server: { drainMs: 60_000, maxBodyBytes: 1024 }, logging: { level: "debug" }, home: "/home/me/.bentoc" },
    });
    const k = parse(files["k8s/overlays/monolith/kustomization.yaml"]!);
    expect(k.images).toEqual([{ name: "fraud-scorer", newName: "registry.example.com:5000/ml/fraud-scorer", newTag: "2.3.1-rc1" }]);
    const cfg = parse(files["k8s/base/bentoc.yaml"]!);
    expect(cfg).toEqual({ home: "/bento/models", logging: { level: "debug" }, server: { drainMs: 60_000, host: "0.0.0.0", maxBodyBytes: 1024, port: 3000 } });
    const api = parse(files["k8s/base/deployment.yaml"]!);
    expect(api.spec.template.spec.terminationGracePeriodSeconds).toBe(5 + 60 + 10);
    expect(api.metadata.labels).toMatchObject({ team: "risk", "cost-center": "ml-42" });
    const digest = emitKubernetes(manifest, { image: `r.io/x@sha256:${"a".repeat(64)}` });
    expect(parse(digest["k8s/overlays/split/kustomization.yaml"]!).images).toEqual([
      { name: "fraud-scorer", newName: "r.io/x", digest: `sha256:${"a".repeat(64)}` },
    ]);
  });

  it("refuses a service name that cannot name Kubernetes objects", () => {
    const bad: Manifest = structuredClone(manifest);
    bad.service.name = "x".repeat(60);
    expect(() => emitKubernetes(bad)).toThrow(/not a valid Kubernetes name/);
  });
});

describe("the strict schema check itself", () => {
  const deployment = parse(emitKubernetes(loadManifest("ocr"))["k8s/base/deployment.yaml"]!) as Obj;

  it("finds unknown fields at any depth, which the plain schema accepts", () => {
    const bad = structuredClone(deployment);
    bad["spec"].replica = 2;
    bad["spec"].template.spec.containers[0].imagePullPolicyy = "Always";
    bad["metadata"].lables = { a: "b" };
    expect(schemaErrors(bad)).toEqual([]); // this is why the probe exists
    expect(unknownFields(bad).sort()).toEqual(["metadata.lables", "spec.replica", "spec.template.spec.containers.0.imagePullPolicyy"]);
    expect(strictProblems(bad)).toHaveLength(3);
  });

  it("reports type errors and wrong kinds", () => {
    const bad = structuredClone(deployment);
    bad["spec"].template.spec.containers[0].ports[0].containerPort = "3000";
    expect(strictProblems(bad).join()).toMatch(/containerPort/);
    expect(() => strictProblems({ apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } })).toThrow(/no schema model/);
  });

  it.skipIf(promtool.skip)("promtool rejects a broken expression (so the rules check can fail)", () => {
    const path = join(tmpRoot, "broken-rules.yaml");
    writeFileSync(path, JSON.stringify({ groups: [{ name: "x", rules: [{ alert: "A", expr: "sum by (le (rate(x[5m]))" }] }] }));
    expect(run(toolPath(promtool), ["check", "rules", path]).status).not.toBe(0);
  });
});

describe("quantities", () => {
  it("parses and sums cpu and memory exactly", () => {
    expect(parseCpuMillis("1.5")).toBe(1500);
    expect(parseCpuMillis("250m")).toBe(250);
    expect(parseMemoryBytes("1Gi")).toBe(1024 ** 3);
    expect(parseMemoryBytes("1G")).toBe(1e9);
    expect(sumResources([{ cpu: "500m", memory: "512Mi" }, { cpu: "1.5", memory: "1Gi", gpu: 1 }, { gpu: 1 }])).toEqual({ cpu: "2", memory: "1536Mi", gpu: 2 });
    expect(() => parseCpuMillis("two")).toThrow(/invalid cpu/);
    expect(() => parseMemoryBytes("1GB")).toThrow(/invalid memory/);
  });
});
