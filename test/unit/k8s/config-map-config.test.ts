/**
 * The bentoc.yaml files the ConfigMaps carry, and the env the split API gets, loaded by the runtime's own
 * config loader (closed schema): what the pods will actually run with.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { emitKubernetes, runnerUrl } from "../../../compiler/emit/k8s/emit-kubernetes.ts";
import { loadConfig, printConfig } from "../../../runtime/config/load-config.ts";
import { loadManifest, SAMPLE_NAMES } from "./sample-manifests.ts";

const tmpRoot = mkdtempSync(join(tmpdir(), "bentoc-k8s-config-"));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

describe.each(SAMPLE_NAMES)("ConfigMap bentoc.yaml of %s", (name) => {
  const manifest = loadManifest(name);
  const files = emitKubernetes(manifest);
  const load = (path: string, env: NodeJS.ProcessEnv = {}) => {
    const file = join(tmpRoot, `${name}-${path.replace(/\//g, "_")}`);
    writeFileSync(file, files[path]!);
    return loadConfig({ manifest, file, env });
  };

  it("base and canary configs load: listen on all interfaces, port 3000, the image's model store, all runners local", () => {
    for (const path of ["k8s/base/bentoc.yaml", "k8s/overlays/canary/bentoc.yaml"]) {
      const config = load(path);
      expect(config.server).toMatchObject({ host: "0.0.0.0", port: 3000, drainMs: 30_000 });
      expect(config.home).toBe("/bento/models");
      for (const r of manifest.runners) expect(config.runners[r.name]?.url).toBeNull();
    }
  });

  it("the split API config, and the env vars the API Deployment gets, make every runner remote at its Service", () => {
    const config = load("k8s/overlays/split/bentoc.yaml");
    const patch = parse(files["k8s/overlays/split/api-patch.yaml"]!) as { op: string; value: { name: string; value: string } }[];
    const env = Object.fromEntries(patch.filter((p) => p.op === "add").map((p) => [p.value.name, p.value.value]));
    const fromEnv = loadConfig({ manifest, file: null, env });
    for (const r of manifest.runners) {
      expect(config.runners[r.name]?.url).toBe(runnerUrl(manifest, r.name));
      expect(fromEnv.runners[r.name]?.url).toBe(runnerUrl(manifest, r.name));
    }
    expect(Object.keys(env)).toHaveLength(manifest.runners.length);
  });

  it("an effective config printed by the runtime goes through the emitter and loads back unchanged but for the pod keys", () => {
    const effective = loadConfig({ manifest, file: null, env: {}, overrides: { logging: { level: "debug" } } });
    const emitted = emitKubernetes(manifest, { config: parse(printConfig(effective, "yaml")) as object });
    const file = join(tmpRoot, `${name}-effective.yaml`);
    writeFileSync(file, emitted["k8s/base/bentoc.yaml"]!);
    const back = loadConfig({ manifest, file, env: {} });
    expect(back).toEqual({ ...effective, home: "/bento/models", server: { ...effective.server, host: "0.0.0.0", port: 3000 } });
  });
});
