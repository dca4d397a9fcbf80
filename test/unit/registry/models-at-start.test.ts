/**
 * The pieces of "models at pod start" that need no registry: the Containerfile without its models layer,
 * the JSON patch giving a Deployment its `pull-models` init container, the offline model manifest digest
 * (the same bytes `bentoc models push` sends), and the error line registry commands print. The whole flow,
 * against a real registry, kubectl and podman, is test/e2e/registry-containerize.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { containerfileWithoutModels } from "../../../bento/containerize.ts";
import { IMAGE_MODELS_DIR, modelsInitPatch, REGISTRY_SECRET_DIR } from "../../../bento/pinned-kubernetes.ts";
import { errorLine } from "../../../cli/registry-flags.ts";
import { ModelStoreError } from "../../../runtime/models/model-store-error.ts";
import { modelAnnotations, modelManifestDigest } from "../../../runtime/registry/model-remote.ts";
import { buildManifest, MODEL_ARTIFACT } from "../../../runtime/registry/oci-artifact.ts";
import { sha256Digest } from "../../../runtime/registry/registry-client.ts";
import { RegistryError } from "../../../runtime/registry/registry-error.ts";
import { repoRoot } from "../../helpers/serve-sample.ts";

describe("models at pod start", () => {
  it("the Containerfile without models drops only the models layer", () => {
    const text = readFileSync(join(repoRoot, "snapshots/support-tickets/Containerfile"), "utf8");
    const slim = containerfileWithoutModels(text);
    expect(slim).not.toMatch(/^COPY models\//m);
    const removed = text.split("\n").filter((l) => !slim.split("\n").includes(l));
    expect(removed).toEqual(["COPY models/ /bento/models/"]);
    expect(slim).toContain("ENV NODE_ENV=production \\\n    BENTOC_HOME=/bento/models");
    expect(() => containerfileWithoutModels(text.replace(/^COPY models\/.*$/m, ""))).toThrow("has no models layer");
  });

  it("the init-container patch: the same image, models pulled by digest into the emptyDir, credentials from an optional Secret", () => {
    const refs = [
      { ref: `r.example:5000/team/a@sha256:${"1".repeat(64)}`, size: 80 * 2 ** 20 },
      { ref: `r.example:5000/team/b@sha256:${"2".repeat(64)}`, size: 8 * 2 ** 20 },
    ];
    const ops = parse(modelsInitPatch("support-tickets", refs)) as { op: string; path: string; value: any }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual([
      "add /spec/template/spec/initContainers",
      "add /spec/template/spec/volumes/-",
      "add /spec/template/spec/volumes/-",
      "add /spec/template/spec/containers/0/volumeMounts/-",
    ]);
    const [init] = ops[0]!.value;
    expect(init.image).toBe("support-tickets");
    expect(init.args).toEqual(["models", "pull", ...refs.map((r) => r.ref)]);
    expect(init.env).toContainEqual({ name: "BENTOC_HOME", value: IMAGE_MODELS_DIR });
    expect(init.env).toContainEqual({ name: "REGISTRY_AUTH_FILE", value: `${REGISTRY_SECRET_DIR}/auth.json` });
    expect(init.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(ops[1]!.value).toEqual({ name: "models", emptyDir: { sizeLimit: `${Math.ceil(88 * 1.25) + 64}Mi` } });
    expect(ops[2]!.value).toEqual({ name: "registry", secret: { secretName: "support-tickets-registry", optional: true } });
    expect(ops[3]!.value).toEqual({ name: "models", mountPath: IMAGE_MODELS_DIR, readOnly: true });
  });

  it("a model's manifest digest is computed offline from its record bytes, as the push builds it", () => {
    const record = {
      schemaVersion: 1,
      tag: "m:01m8qt3rzgq342a2",
      name: "m",
      version: "01m8qt3rzgq342a2",
      modelFile: "model.onnx",
      creationTime: "2026-01-01T00:00:00.000Z",
      labels: { team: "ml" },
      metadata: {},
      signatures: { run: { batchable: false, batchDim: 0 } },
      inputs: [],
      outputs: [],
      files: [{ path: "model.onnx", size: 3, sha256: "a".repeat(64) }],
      size: 3,
    };
    const recordBytes = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
    expect(modelManifestDigest(recordBytes)).toBe(sha256Digest(buildManifest(MODEL_ARTIFACT, recordBytes, record.files, modelAnnotations(record as never))));
    // the record's bytes are part of the artifact: the same record written otherwise is another manifest
    expect(modelManifestDigest(Buffer.from(JSON.stringify(record)))).not.toBe(modelManifestDigest(recordBytes));
  });

  it("registry commands end their error line with the error's code", () => {
    expect(errorLine(new RegistryError("UNAUTHORIZED", "registry r refused the credentials"))).toBe("error: registry r refused the credentials [UNAUTHORIZED]");
    expect(errorLine(new ModelStoreError("EXISTS", "model m:1 already exists"))).toBe("error: model m:1 already exists [EXISTS]");
    expect(errorLine(new Error("plain"))).toBe("error: plain");
    expect(errorLine("text")).toBe("error: text");
  });
});
