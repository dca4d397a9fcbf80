/**
 * `bentoc init [dir]`: a working service project in `dir`. The model comes first (the starter classifier,
 * or the `--model` file after checking that a runner can be written for it) and is saved in the model
 * store; then the project files are written and package.json is created or merged. Existing files are
 * never overwritten without `force`; nothing is written when any step before the writing fails.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { bentocVersion } from "../../contract/package-root.ts";
import { ModelStore } from "../models/model-store.ts";
import { readOnnxIo } from "../models/onnx-io.ts";
import { type MergedPackageJson, mergePackageJson } from "./package-json.ts";
import { exampleBody, type ProjectSpec, projectFiles } from "./project-files.ts";
import { planRunner, type RunnerPlan } from "./runner-plan.ts";
import { buildStarterModel, STARTER_CLASSES, STARTER_FEATURES, STARTER_SEED } from "./starter-model.ts";

export interface InitOptions {
  /** The project directory (created when missing). */
  dir: string;
  /** Overwrite files that exist. */
  force?: boolean;
  /** An ONNX file to serve instead of the starter classifier. */
  modelFile?: string | undefined;
  /** The service name; default: the package.json name, else the directory's name, in kebab-case. */
  name?: string | undefined;
  /** The model store; default `$BENTOC_HOME` or `~/.bentoc`. */
  home?: string | undefined;
}

export interface InitResult {
  dir: string;
  name: string;
  /** Files written, relative to `dir`, in writing order (package.json last). */
  written: string[];
  packageJson: MergedPackageJson & { created: boolean };
  model: { tag: string; reused: boolean; origin: string; home: string };
  plan: RunnerPlan;
  /** The JSON body of an example request to POST /predict. */
  exampleBody: string;
}

export class InitError extends Error {
  override name = "InitError";
}

const SERVICE_NAME = /^[a-z][a-z0-9-]*$/;

/** A service name from free text: lowercase, runs of other characters become '-', starting with a letter. */
export function serviceNameFrom(text: string): string {
  const cleaned = text
    .replace(/^@[^/]*\//, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 50)
    .replace(/-+$/, "");
  return cleaned === "" ? "my-service" : cleaned;
}

export function pascalCase(name: string): string {
  const out = name
    .split("-")
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
  return out === "ModelRunner" ? "ModelRunnerService" : out;
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Saves the model unless the newest version under `name` holds the same bytes already. */
async function saveModel(store: ModelStore, name: string, bytes: Uint8Array, labels: Record<string, string>, metadata: Record<string, unknown>) {
  const newest = (await store.list({ name })).sort((a, b) => (a.version < b.version ? 1 : -1))[0];
  const file = newest?.files.find((f) => f.path === newest.modelFile);
  if (newest && file?.sha256 === sha256(bytes)) return { tag: newest.tag, reused: true };
  const saved = await store.save([{ path: "model.onnx", data: bytes }], { name, labels, metadata, signatures: { run: { batchable: true, batchDim: 0 } } });
  return { tag: saved.tag, reused: false };
}

export async function initProject(options: InitOptions): Promise<InitResult> {
  const dir = resolve(options.dir);
  const pkgPath = join(dir, "package.json");
  const existingPkg = existsSync(pkgPath) ? await readFile(pkgPath, "utf8") : undefined;
  let name: string;
  if (options.name !== undefined) {
    if (!SERVICE_NAME.test(options.name) || options.name.length > 50)
      throw new InitError(`invalid service name "${options.name}": use lowercase letters, digits and '-', starting with a letter, at most 50 characters`);
    name = options.name;
  } else {
    let pkgName: unknown;
    try {
      pkgName = existingPkg === undefined ? undefined : (JSON.parse(existingPkg) as { name?: unknown }).name;
    } catch {
      pkgName = undefined; // reported by the merge below
    }
    name = serviceNameFrom(typeof pkgName === "string" && pkgName !== "" ? pkgName : basename(dir));
  }

  let bytes: Uint8Array;
  let plan: RunnerPlan;
  let origin: string;
  let labels: Record<string, string>;
  let metadata: Record<string, unknown>;
  if (options.modelFile !== undefined) {
    const file = resolve(options.modelFile);
    if (!existsSync(file)) throw new InitError(`--model ${options.modelFile}: no such file`);
    plan = planRunner(await readOnnxIo(file), options.modelFile);
    bytes = await readFile(file);
    origin = `from ${basename(file)}`;
    labels = { "created-by": "bentoc-init" };
    metadata = { source: basename(file) };
  } else {
    plan = { inputName: "x", outputName: "y", features: STARTER_FEATURES, outputs: STARTER_CLASSES };
    bytes = buildStarterModel();
    origin = `the starter classifier bentoc init created: ${STARTER_FEATURES} features → ${STARTER_CLASSES} class probabilities, seeded synthetic weights`;
    labels = { "created-by": "bentoc-init", weights: "synthetic" };
    metadata = { seed: STARTER_SEED, note: "synthetic seeded weights: deterministic, meaningless classes" };
  }

  const modelName = `${name}-model`;
  const spec: ProjectSpec = { name, className: pascalCase(name), modelTag: `${modelName}:latest`, plan, modelOrigin: origin };
  const files = projectFiles(spec);
  const conflicts = Object.keys(files).filter((f) => existsSync(join(dir, f)));
  if (conflicts.length > 0 && !options.force) {
    throw new InitError(`${dir} already has ${conflicts.join(", ")}; nothing was written (use --force to overwrite, or init another directory)`);
  }
  const merged = mergePackageJson(existingPkg, name, `^${bentocVersion()}`);

  const store = new ModelStore(options.home);
  const model = await saveModel(store, modelName, bytes, labels, metadata);

  const written: string[] = [];
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    written.push(rel);
  }
  await writeFile(pkgPath, merged.text);
  written.push("package.json");
  return {
    dir,
    name,
    written,
    packageJson: { ...merged, created: existingPkg === undefined },
    model: { ...model, origin, home: store.home },
    plan,
    exampleBody: exampleBody(plan),
  };
}
