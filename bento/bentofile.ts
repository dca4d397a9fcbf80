/**
 * `bentofile.yaml`: read, validate against BENTOFILE_SCHEMA with ajv, and resolve relative paths. Every
 * problem is reported tsc-style with the file, line and column of the offending key or value:
 *
 *   bentofile.yaml:7:3 - error: docker.base_image must be a string
 */

import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { ErrorObject } from "ajv";
import Ajv2020Module from "ajv/dist/2020.js";
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { BENTOFILE_SCHEMA, type BentofileSpec } from "./bentofile-schema.ts";
import { BENTOFILE, candidateEntry, ENTRY_CANDIDATES } from "./project-entry.ts";

export interface BentofileIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. `docker.base_image` or `include[2]`; "" for the document. */
  path: string;
  message: string;
}

export class BentofileError extends Error {
  override name = "BentofileError";
  constructor(readonly issues: BentofileIssue[]) {
    super(issues.map(formatIssue).join("\n"));
  }
}

export function formatIssue(i: BentofileIssue): string {
  return `${i.file}:${i.line}:${i.column} - error: ${i.message}`;
}

/** A validated bentofile with paths resolved. */
export interface Bentofile {
  /** Absolute path of the bentofile (or of the directory when there is none). */
  file: string;
  /** The build directory: where the bentofile lives; include/exclude globs are relative to it. */
  dir: string;
  /** Absolute path of the service entry file. */
  service: string;
  name?: string;
  labels: Record<string, string>;
  description?: string;
  include: string[];
  exclude: string[];
  /** Model tags to pack; undefined means "the ones the manifest references". */
  models?: string[];
  packages: Record<string, string>;
  docker: {
    baseImage?: string;
    systemPackages: string[];
    env: Record<string, string>;
    /** Relative to `dir`, `/`-separated. */
    setupScript?: string;
    nodeVersion?: string;
  };
}

const Ajv2020 = Ajv2020Module as unknown as typeof Ajv2020Module.default;
// Compiled on first use: the CLI imports this module for every command. The schema is ours and fixed, so it
// is not checked against JSON Schema's meta-schema here (compiling the meta-schema was about 60 % of this
// step, ~0.1 s of every `bentoc compile <dir>`); test/unit/bento/bentofile.test.ts checks it once.
let compiled: ReturnType<InstanceType<typeof Ajv2020>["compile"]> | undefined;
const validator = () => (compiled ??= new Ajv2020({ allErrors: true, strict: false, verbose: true, validateSchema: false }).compile(BENTOFILE_SCHEMA));

/** Segments of a JSON pointer (`/docker/env/A~1B` → ["docker", "env", "A/B"]). */
function segments(pointer: string): string[] {
  return pointer === ""
    ? []
    : pointer
        .slice(1)
        .split("/")
        .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function displayPath(parts: readonly string[]): string {
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === "" ? p : `.${p}`;
  return out;
}

/** The YAML node at a path (the value, or with `key: true` the key of the last segment). */
function nodeAt(doc: Document, parts: readonly string[], key = false): Node | null {
  let node: unknown = doc.contents;
  let keyNode: unknown = null;
  for (const p of parts) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === p);
      if (!pair) return (node as Node) ?? null;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(p)];
      if (item === undefined) return node as Node;
      keyNode = item;
      node = item;
    } else {
      break;
    }
  }
  return ((key ? keyNode : node) ?? keyNode ?? doc.contents) as Node | null;
}

const ARTICLE: Record<string, string> = {
  string: "a string",
  array: "a list",
  object: "a mapping",
  number: "a number",
  integer: "an integer",
  boolean: "a boolean",
};

function describe(err: ErrorObject, parts: string[]): { message: string; at: string[]; key: boolean } {
  const path = displayPath(parts);
  const name = path === "" ? "the bentofile" : path;
  switch (err.keyword) {
    case "type":
      return { message: `${name} must be ${ARTICLE[String(err.params["type"])] ?? String(err.params["type"])}`, at: parts, key: false };
    case "required":
      return { message: `${displayPath([...parts, String(err.params["missingProperty"])])} is required`, at: parts, key: false };
    case "additionalProperties": {
      const extra = String(err.params["additionalProperty"]);
      const schema = err.parentSchema as { properties?: Record<string, unknown> } | undefined;
      const known = Object.keys(schema?.properties ?? {});
      const where = path === "" ? "" : ` in ${path}`;
      return { message: `unknown key "${extra}"${where} (expected one of: ${known.join(", ")})`, at: [...parts, extra], key: true };
    }
    case "propertyNames":
      return {
        message: `${displayPath([...parts, String(err.params["propertyName"])])}: invalid key name "${String(err.params["propertyName"])}"`,
        at: [...parts, String(err.params["propertyName"])],
        key: true,
      };
    case "pattern":
      return { message: `${name} has an invalid value (must match ${String(err.params["pattern"])})`, at: parts, key: false };
    case "minLength":
      return { message: `${name} must not be empty`, at: parts, key: false };
    case "oneOf":
      return { message: `${name} must be a string or a mapping { file: PATH }`, at: parts, key: false };
    default:
      return { message: `${name} ${err.message ?? "is invalid"}`, at: parts, key: false };
  }
}

function relPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === "" || rel.startsWith("..") ? file : rel;
}

/**
 * Reads `file` (a bentofile.yaml). Throws BentofileError listing every problem with its position.
 * `text` may be given to validate content without reading the file.
 */
export function loadBentofile(file: string, text: string = readFileSync(file, "utf8")): Bentofile {
  const shown = relPath(file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number | undefined) => {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const issue = (offset: number | undefined, path: string, message: string): BentofileIssue => ({ file: shown, ...pos(offset), path, message });
  if (doc.errors.length > 0) {
    throw new BentofileError(doc.errors.map((e) => issue(e.pos[0], "", e.message.split("\n")[0] ?? e.message)));
  }
  const value: unknown = doc.toJS() ?? {};
  const validate = validator();
  if (!validate(value)) {
    const seen = new Set<string>();
    const issues: BentofileIssue[] = [];
    // oneOf failures also report each branch's errors: keep only the oneOf summary for those paths.
    const oneOfPaths = new Set((validate.errors ?? []).filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
    for (const err of validate.errors ?? []) {
      if (err.keyword !== "oneOf" && [...oneOfPaths].some((p) => err.instancePath === p || err.instancePath.startsWith(`${p}/`))) continue;
      if (err.keyword === "if") continue;
      const parts = segments(err.instancePath);
      const d = describe(err, parts);
      const node = nodeAt(doc, d.at, d.key);
      const i = issue(node?.range?.[0], displayPath(d.at), d.message);
      const k = formatIssue(i);
      if (!seen.has(k)) {
        issues.push(i);
        seen.add(k);
      }
    }
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new BentofileError(issues);
  }
  const spec = value as BentofileSpec;
  const dir = dirname(resolve(file));
  const issues: BentofileIssue[] = [];
  const at = (parts: string[]) => nodeAt(doc, parts)?.range?.[0];
  const inside = (p: string, parts: string[], what: string, kind: "file" | "any"): string | undefined => {
    if (isAbsolute(p)) {
      issues.push(issue(at(parts), displayPath(parts), `${displayPath(parts)} must be a path relative to the bentofile, not ${p}`));
      return undefined;
    }
    const abs = resolve(dir, p);
    const rel = relative(dir, abs);
    if (rel.startsWith("..")) {
      issues.push(issue(at(parts), displayPath(parts), `${displayPath(parts)} ${p} is outside the build directory ${dir}`));
      return undefined;
    }
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st || (kind === "file" && !st.isFile())) {
      issues.push(issue(at(parts), displayPath(parts), `${displayPath(parts)}: ${what} ${p} not found (looked for ${abs})`));
      return undefined;
    }
    return abs;
  };
  let service = inside(spec.service, ["service"], "service", "any");
  if (service && statSync(service).isDirectory()) {
    const candidate = ["service.ts", "index.ts"].map((f) => join(service!, f)).find((f) => existsSync(f));
    if (!candidate) issues.push(issue(at(["service"]), "service", `service: ${spec.service} is a directory without service.ts or index.ts`));
    service = candidate;
  }
  let description: string | undefined;
  if (typeof spec.description === "string") description = spec.description;
  else if (spec.description) {
    const f = inside(spec.description.file, ["description", "file"], "description file", "file");
    if (f) description = readFileSync(f, "utf8");
  }
  let setupScript: string | undefined;
  if (spec.docker?.setup_script !== undefined) {
    const f = inside(spec.docker.setup_script, ["docker", "setup_script"], "setup script", "file");
    if (f) setupScript = relative(dir, f).split("\\").join("/");
  }
  if (issues.length > 0 || !service) throw new BentofileError(issues);
  const out: Bentofile = {
    file: resolve(file),
    dir,
    service,
    labels: spec.labels ?? {},
    include: spec.include ?? [],
    exclude: spec.exclude ?? [],
    packages: spec.packages ?? {},
    docker: { systemPackages: spec.docker?.system_packages ?? [], env: spec.docker?.env ?? {} },
  };
  if (spec.name !== undefined) out.name = spec.name;
  if (description !== undefined) out.description = description;
  if (spec.models !== undefined) out.models = spec.models;
  if (spec.docker?.base_image !== undefined) out.docker.baseImage = spec.docker.base_image;
  if (spec.docker?.node_version !== undefined) out.docker.nodeVersion = spec.docker.node_version;
  if (setupScript !== undefined) out.docker.setupScript = setupScript;
  return out;
}

/**
 * The bentofile of a build directory: `-f FILE` when given, else `<dir>/bentofile.yaml`, else a default
 * one (`service:` the first of ENTRY_CANDIDATES there) so a plain service directory builds too.
 */
export function findBentofile(dir: string, file?: string): Bentofile {
  if (file !== undefined) return loadBentofile(resolve(dir, file));
  const path = join(dir, BENTOFILE);
  if (existsSync(path)) return loadBentofile(path);
  const entry = candidateEntry(resolve(dir));
  if (!entry) {
    throw new BentofileError([
      { file: relPath(path), line: 1, column: 1, path: "", message: `no ${BENTOFILE}, ${ENTRY_CANDIDATES.join(", ")} in ${resolve(dir)}` },
    ]);
  }
  return loadBentofile(path, `service: ${relative(resolve(dir), entry)}\n`);
}
