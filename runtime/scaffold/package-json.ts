/**
 * The project's package.json after `bentoc init`: a new one (ES module, bentoc as a dependency, the
 * TypeScript tooling as dev dependencies, scripts), or the user's merged with what the service needs.
 * Merging keeps every field the user has, their bentoc dependency as it is (a range, a tarball, a tag),
 * and their scripts; it adds what is missing and reports what it left alone. The one field it changes is
 * `"type": "commonjs"` (what `npm init -y` writes): a service is an ES module, so it becomes "module" and
 * the change is reported.
 */

/** Dev dependencies of a new project: what `npm run typecheck` needs (kept equal to bentoc's own by a test). */
export const PROJECT_DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  "@types/node": "^20.19.43",
  typescript: "^6.0.3",
};

export const PROJECT_SCRIPTS: Readonly<Record<string, string>> = {
  serve: "bentoc serve",
  dev: "bentoc serve --reload",
  compile: "bentoc compile",
  typecheck: "tsc -p .",
};

export class PackageJsonError extends Error {
  override name = "PackageJsonError";
}

export interface MergedPackageJson {
  text: string;
  /** What was added (`dependencies.bentoc`, `scripts.serve`, `type`, …). */
  added: string[];
  /** What the user already had and was kept although init would have written something else. */
  kept: string[];
  /** What was changed (`type: commonjs → module`). */
  changed: string[];
}

type Json = Record<string, unknown>;

function record<T = string>(value: unknown, field: string): Record<string, T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new PackageJsonError(`package.json: "${field}" must be an object`);
  return value as Record<string, T>;
}

/**
 * npm ≥ 11 skips the install scripts a project's `allowScripts` denies (and runs unreviewed ones with a
 * notice): denying onnxruntime-node's keeps every later `npm install`/`npm ci` of the project from
 * downloading CUDA libraries (docs/install.md says how to allow it for GPUs).
 */
export const DENIED_INSTALL_SCRIPTS = ["onnxruntime-node"] as const;

/**
 * `existing` is the text of the project's package.json, or undefined when there is none. `name` names a
 * new package; `bentocRange` is what a new dependency on bentoc says (`^<this version>`).
 */
export function mergePackageJson(existing: string | undefined, name: string, bentocRange: string): MergedPackageJson {
  const added: string[] = [];
  const kept: string[] = [];
  const changed: string[] = [];
  let pkg: Json;
  if (existing === undefined) {
    pkg = { name, version: "0.1.0", private: true };
  } else {
    try {
      pkg = JSON.parse(existing) as Json;
    } catch (err) {
      throw new PackageJsonError(`package.json is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof pkg !== "object" || pkg === null || Array.isArray(pkg)) throw new PackageJsonError("package.json must hold a JSON object");
  }
  if (pkg["type"] === undefined) {
    pkg["type"] = "module";
    added.push("type");
  } else if (pkg["type"] === "commonjs") {
    pkg["type"] = "module";
    changed.push("type: commonjs → module (rename CommonJS .js files of this package to .cjs)");
  } else if (pkg["type"] !== "module") {
    throw new PackageJsonError(`package.json has "type": ${JSON.stringify(pkg["type"])}; a bentoc service is an ES module: set "type": "module"`);
  }
  const deps = record(pkg["dependencies"], "dependencies");
  const devDeps = record(pkg["devDependencies"], "devDependencies");
  if (deps["bentoc"] !== undefined || devDeps["bentoc"] !== undefined) {
    kept.push(`dependencies.bentoc (${deps["bentoc"] ?? devDeps["bentoc"]})`);
  } else {
    deps["bentoc"] = bentocRange;
    added.push("dependencies.bentoc");
  }
  pkg["dependencies"] = sortRecord(deps);
  for (const [dep, range] of Object.entries(PROJECT_DEV_DEPENDENCIES)) {
    if (deps[dep] !== undefined || devDeps[dep] !== undefined) continue;
    devDeps[dep] = range;
    added.push(`devDependencies.${dep}`);
  }
  pkg["devDependencies"] = sortRecord(devDeps);
  const allowScripts = record<unknown>(pkg["allowScripts"], "allowScripts");
  for (const dep of DENIED_INSTALL_SCRIPTS) {
    if (Object.keys(allowScripts).some((k) => k === dep || k.startsWith(`${dep}@`))) continue;
    allowScripts[dep] = false;
    added.push(`allowScripts.${dep}`);
  }
  pkg["allowScripts"] = allowScripts;
  const scripts = record(pkg["scripts"], "scripts");
  for (const [script, command] of Object.entries(PROJECT_SCRIPTS)) {
    if (scripts[script] === undefined) {
      scripts[script] = command;
      added.push(`scripts.${script}`);
    } else if (scripts[script] !== command) {
      kept.push(`scripts.${script}`);
    }
  }
  pkg["scripts"] = scripts;
  return { text: `${JSON.stringify(pkg, null, 2)}\n`, added, kept, changed };
}

function sortRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
