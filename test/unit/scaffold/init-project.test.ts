/**
 * `bentoc init` without a network or a server: the project files it writes, package.json created and
 * merged, refusing to overwrite, the starter model (deterministic, real onnxruntime), a `--model` it can
 * write a runner for and models it refuses with a reason.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { ModelStore } from "../../../runtime/models/model-store.ts";
import { GraphBuilder } from "../../../runtime/models/onnx-graph-builder.ts";
import { InitError, initProject, pascalCase, serviceNameFrom } from "../../../runtime/scaffold/init-project.ts";
import { initSummary } from "../../../runtime/scaffold/init-summary.ts";
import { mergePackageJson, PackageJsonError, PROJECT_DEV_DEPENDENCIES, PROJECT_SCRIPTS } from "../../../runtime/scaffold/package-json.ts";
import { projectFiles, TSCONFIG } from "../../../runtime/scaffold/project-files.ts";
import { RunnerPlanError } from "../../../runtime/scaffold/runner-plan.ts";
import { buildStarterModel, STARTER_CLASSES, STARTER_FEATURES } from "../../../runtime/scaffold/starter-model.ts";
import { buildTabular } from "../../../scripts/models/tabular.ts";
import { repoRoot } from "../../helpers/serve-sample.ts";
import { useTempDirs } from "../models/temp-home.ts";

const tempDir = useTempDirs();
const repoPkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };

async function project(): Promise<{ dir: string; home: string }> {
  return { dir: join(await tempDir("bentoc-init-"), "my-app"), home: await tempDir("bentoc-init-home-") };
}

describe("bentoc init", () => {
  it("writes a service project on the starter model and saves the model once", async () => {
    const { dir, home } = await project();
    const r = await initProject({ dir, home });
    expect(r.name).toBe("my-app");
    expect(r.written).toEqual(["src/service.ts", "tsconfig.json", "bentofile.yaml", "README.md", ".gitignore", "package.json"]);
    for (const f of r.written) expect(existsSync(join(dir, f)), f).toBe(true);
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<string, any>;
    expect(pkg).toMatchObject({
      name: "my-app",
      type: "module",
      private: true,
      dependencies: { bentoc: `^${repoPkg.version}` },
      scripts: PROJECT_SCRIPTS,
      allowScripts: { "onnxruntime-node": false },
    });
    const service = await readFile(join(dir, "src/service.ts"), "utf8");
    expect(service).toContain('@runner({ name: "model", model: "my-app-model:latest" })');
    expect(service).toContain("@batchable({ batchDim: 0");
    expect(service).toContain("export class MyApp {");
    expect(service).toContain(`const FEATURES = ${STARTER_FEATURES};`);
    expect(await readFile(join(dir, "bentofile.yaml"), "utf8")).toContain("service: src/service.ts");
    expect(r.model.reused).toBe(false);
    const stored = await new ModelStore(home).get(r.model.tag);
    expect(stored.inputs).toEqual([{ name: "x", dtype: "float32", shape: ["N", STARTER_FEATURES] }]);
    expect(stored.labels).toMatchObject({ weights: "synthetic", "created-by": "bentoc-init" });
    // again with --force: the files are rewritten, the same model is not saved twice
    const again = await initProject({ dir, home, force: true });
    expect(again.model).toMatchObject({ tag: r.model.tag, reused: true });
    expect(await new ModelStore(home).list({ name: "my-app-model" })).toHaveLength(1);
    const text = initSummary(again, join(dir, ".."));
    expect(text).toContain("✓ bentoc init: service my-app in my-app");
    expect(text).toContain("  cd my-app\n  npm install\n  npx bentoc serve\n");
    expect(text).toContain(`-d '{"rows":[[0.1,0.2,0.3,0.4]]}'`);
  });

  it("refuses to overwrite existing files unless forced, and writes nothing then", async () => {
    const { dir, home } = await project();
    await mkdir(join(dir, "src"), { recursive: true });
    await writeFile(join(dir, "src/service.ts"), "// mine\n");
    await writeFile(join(dir, "README.md"), "# mine\n");
    await expect(initProject({ dir, home })).rejects.toThrow(/already has src\/service\.ts, README\.md; nothing was written \(use --force/);
    expect(existsSync(join(dir, "tsconfig.json"))).toBe(false);
    expect(existsSync(join(dir, "package.json"))).toBe(false);
    expect(await new ModelStore(home).list()).toEqual([]);
    await initProject({ dir, home, force: true });
    expect(await readFile(join(dir, "src/service.ts"), "utf8")).toContain("@service(");
  });

  it("merges an existing package.json: keeps the user's fields, bentoc dependency and scripts", async () => {
    const { dir, home } = await project();
    await mkdir(dir, { recursive: true });
    const mine = {
      name: "@acme/Fraud_Scorer",
      version: "3.1.0",
      description: "ours",
      dependencies: { bentoc: "file:../bentoc-0.1.0.tgz", zod: "^3.0.0" },
      scripts: { serve: "node server.js", test: "vitest" },
    };
    await writeFile(join(dir, "package.json"), JSON.stringify(mine));
    const r = await initProject({ dir, home });
    expect(r.name).toBe("fraud-scorer");
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<string, any>;
    expect(pkg).toMatchObject({ name: "@acme/Fraud_Scorer", version: "3.1.0", description: "ours", type: "module" });
    expect(pkg["dependencies"]).toEqual({ bentoc: "file:../bentoc-0.1.0.tgz", zod: "^3.0.0" });
    expect(pkg["scripts"]).toEqual({ ...PROJECT_SCRIPTS, serve: "node server.js", test: "vitest" });
    expect(r.packageJson.kept).toEqual(["dependencies.bentoc (file:../bentoc-0.1.0.tgz)", "scripts.serve"]);
    expect(r.packageJson.added).toEqual([
      "type",
      "devDependencies.@types/node",
      "devDependencies.typescript",
      "allowScripts.onnxruntime-node",
      "scripts.dev",
      "scripts.compile",
      "scripts.typecheck",
    ]);
    expect(pkg["allowScripts"]).toEqual({ "onnxruntime-node": false });
    // a decision the user already made about that script is theirs
    const approved = mergePackageJson(JSON.stringify({ allowScripts: { "onnxruntime-node@1.30.0": true } }), "x", "^1.0.0");
    expect(JSON.parse(approved.text)["allowScripts"]).toEqual({ "onnxruntime-node@1.30.0": true });
  });

  it("turns npm init's CommonJS default into an ES module, saying so; refuses what is not JSON", () => {
    const merged = mergePackageJson(JSON.stringify({ name: "x", type: "commonjs" }), "x", "^1.0.0");
    expect(JSON.parse(merged.text)["type"]).toBe("module");
    expect(merged.changed).toEqual(["type: commonjs → module (rename CommonJS .js files of this package to .cjs)"]);
    expect(() => mergePackageJson(JSON.stringify({ type: "weird" }), "x", "^1.0.0")).toThrow(PackageJsonError);
    expect(() => mergePackageJson("{ nope", "x", "^1.0.0")).toThrow(/package.json is not valid JSON/);
    expect(() => mergePackageJson(JSON.stringify({ scripts: [] }), "x", "^1.0.0")).toThrow(/"scripts" must be an object/);
  });

  it("writes a runner that matches a --model file", async () => {
    const { dir, home } = await project();
    const file = join(await tempDir(), "mlp.onnx");
    await writeFile(file, buildTabular());
    const r = await initProject({ dir, home, modelFile: file, name: "risk" });
    expect(r.plan).toEqual({ inputName: "x", outputName: "y", features: 8, outputs: 3 });
    const service = await readFile(join(dir, "src/service.ts"), "utf8");
    expect(service).toContain("const FEATURES = 8;");
    expect(service).toContain('model: "risk-model:latest"');
    expect(r.exampleBody).toBe(JSON.stringify({ rows: [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]] }));
    expect((await new ModelStore(home).get(r.model.tag)).metadata).toEqual({ source: "mlp.onnx" });
  });

  it("refuses models it cannot write a runner for, saying what it found", async () => {
    const { dir, home } = await project();
    const work = await tempDir();
    const two = new GraphBuilder("two_inputs");
    two.input("a", "float32", ["N", 2]);
    two.input("b", "float32", ["N", 2]);
    two.op("Add", ["a", "b"], {}, "y");
    two.output("y", "float32", ["N", 2]);
    await writeFile(join(work, "two.onnx"), two.toBytes(17));
    await expect(initProject({ dir, home, modelFile: join(work, "two.onnx") })).rejects.toThrow(RunnerPlanError);
    await expect(initProject({ dir, home, modelFile: join(work, "two.onnx") })).rejects.toThrow(
      /it has 2 inputs \("a" float32 \[N, 2\], "b" float32 \[N, 2\]\).*bentoc models save/,
    );
    const fixed = new GraphBuilder("fixed_batch");
    fixed.input("x", "float32", [1, 4]);
    fixed.op("Relu", ["x"], {}, "y");
    fixed.output("y", "float32", [1, 4]);
    await writeFile(join(work, "fixed.onnx"), fixed.toBytes(17));
    await expect(initProject({ dir, home, modelFile: join(work, "fixed.onnx") })).rejects.toThrow(
      /fixed batch dimension; export it with a dynamic first dimension/,
    );
    await writeFile(join(work, "junk.onnx"), "not a model");
    await expect(initProject({ dir, home, modelFile: join(work, "junk.onnx") })).rejects.toThrow(/is not a valid ONNX model/);
    await expect(initProject({ dir, home, modelFile: join(work, "missing.onnx") })).rejects.toThrow(InitError);
    await expect(initProject({ dir, home, name: "Bad Name" })).rejects.toThrow(/invalid service name "Bad Name"/);
    expect(existsSync(dir)).toBe(false);
    expect(await new ModelStore(home).list()).toEqual([]);
  });

  it("the starter model is the same bytes every time and gives probabilities per row", async () => {
    const bytes = buildStarterModel();
    expect(Buffer.from(buildStarterModel()).equals(Buffer.from(bytes))).toBe(true);
    const session = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor("float32", Float32Array.from([0.1, 0.2, 0.3, 0.4, 1, 2, 3, 4]), [2, STARTER_FEATURES]);
    const y = (await session.run({ x }))["y"]!;
    expect(y.dims).toEqual([2, STARTER_CLASSES]);
    const data = y.data as Float32Array;
    for (const row of [0, 1]) expect(data.slice(row * 3, row * 3 + 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(data.slice(0, 3)).not.toEqual(data.slice(3, 6));
    await session.release();
  });

  it("names, tsconfig and dev dependencies", () => {
    expect(["My App", "@scope/pkg-Name", "123abc", "__", "ocrService"].map(serviceNameFrom)).toEqual([
      "my-app",
      "pkg-name",
      "abc",
      "my-service",
      "ocr-service",
    ]);
    expect(pascalCase("fraud-scorer")).toBe("FraudScorer");
    expect(pascalCase("model-runner")).toBe("ModelRunnerService");
    const tsconfig = JSON.parse(TSCONFIG) as { compilerOptions: Record<string, unknown> };
    expect(tsconfig.compilerOptions).toMatchObject({ module: "NodeNext", moduleResolution: "NodeNext" });
    expect(tsconfig.compilerOptions["experimentalDecorators"]).toBeUndefined();
    expect(tsconfig.compilerOptions["allowImportingTsExtensions"]).toBeUndefined();
    // what a new project installs for `npm run typecheck` is what bentoc itself is tested with
    for (const [dep, range] of Object.entries(PROJECT_DEV_DEPENDENCIES)) expect(range, dep).toBe(repoPkg.devDependencies[dep]);
    const files = projectFiles({
      name: "a",
      className: "A",
      modelTag: "a-model:latest",
      plan: { inputName: "in put", outputName: 'o"ut', features: 2, outputs: null },
      modelOrigin: "x",
    });
    expect(files["src/service.ts"]).toContain('{ "in put": { dtype: "float32"');
    expect(files["src/service.ts"]).toContain('out["o\\"ut"]');
  });
});
