/**
 * JSON Schema validation with ajv (draft 2020-12), compiled ONCE per schema at start. The manifest's
 * shared `$defs` are attached to each compiled schema so `{ "$ref": "#/$defs/Name" }` resolves.
 * Errors become `FieldProblem`s: a JSON Pointer to the field (`/items/0/name`, `""` for the whole body) and why.
 */
import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import type Ajv2020Module from "ajv/dist/2020.js";
import type addFormatsModule from "ajv-formats";
import type { JsonSchema } from "../../sdk/manifest.ts";
import { BadRequest, type FieldProblem } from "../errors/http-errors.ts";

type Ajv2020 = Ajv2020Module.default;
// ajv and ajv-formats (CommonJS) load with the first schema that checks anything: a service whose inputs
// take no JSON (ndarray, image, file bodies) never loads them.
const require = createRequire(import.meta.url);
function newAjv(options: { allErrors: boolean; coerceTypes: boolean }): Ajv2020 {
  const Ajv = (require("ajv/dist/2020.js") as typeof Ajv2020Module).default;
  const addFormats = (require("ajv-formats") as typeof addFormatsModule).default;
  const ajv = new Ajv({ ...options, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

/**
 * Checks a value; throws `BadRequest` (`invalid_input`) naming the offending fields: up to
 * `MAX_PROBLEMS` of them for a body of at most `FULL_REPORT_MAX_BYTES` (`bytes`, the size of what the
 * value was parsed from), only the first one for a larger body, so that a hostile body cannot make the
 * server spend seconds listing problems or answer with megabytes.
 */
export type Validate = (value: unknown, bytes?: number) => void;

/** Most problems listed in one 400. */
export const MAX_PROBLEMS = 20;
/** Largest body whose every problem is looked for (past it, validation stops at the first). */
export const FULL_REPORT_MAX_BYTES = 64 * 1024;

export interface SchemaCompiler {
  /** Returns null when the schema accepts everything (nothing to check). */
  compile(schema: JsonSchema): Validate | null;
}

export function createSchemaCompiler(defs: Record<string, JsonSchema>, options: { coerceTypes?: boolean } = {}): SchemaCompiler {
  const coerceTypes = options.coerceTypes ?? false;
  // Two compilations of each schema: one that stops at the first error (every request passes it, and it
  // is all a large invalid body gets) and one that collects them all (a small invalid body).
  let firstError: Ajv2020 | undefined;
  let allErrors: Ajv2020 | undefined;
  return {
    compile(schema) {
      if (isAcceptAll(schema)) return null;
      const full = { ...schema, $defs: { ...defs, ...(schema["$defs"] as object | undefined) } };
      firstError ??= newAjv({ allErrors: false, coerceTypes });
      const fast: ValidateFunction = firstError.compile(full);
      let thorough: ValidateFunction | undefined;
      return (value, bytes = 0) => {
        if (fast(value)) return;
        let errors = fast.errors ?? [];
        const complete = bytes <= FULL_REPORT_MAX_BYTES;
        if (complete) {
          allErrors ??= newAjv({ allErrors: true, coerceTypes });
          thorough ??= allErrors.compile(full);
          // With coercion the first pass may have changed the value already; a second pass sees the same.
          if (!thorough(value)) errors = thorough.errors ?? errors;
        }
        const found = toProblems(errors);
        const problems = found.slice(0, MAX_PROBLEMS);
        const summary = problems
          .slice(0, 3)
          .map((p) => `${p.path || "(body)"} ${p.message}`)
          .join("; ");
        const more = !complete ? "; the body is too large to list every problem" : found.length > 3 ? `; and ${found.length - 3} more` : "";
        throw new BadRequest(`invalid input: ${summary}${more}`, "invalid_input", problems);
      };
    },
  };
}

function isAcceptAll(schema: JsonSchema): boolean {
  return Object.keys(schema).every((k) => k === "description" || k === "title" || k === "examples" || k === "$comment");
}

export function toProblems(errors: readonly ErrorObject[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let path = pointerToPath(e.instancePath);
    let message = e.message ?? "is invalid";
    const params = e.params as Record<string, unknown>;
    if (e.keyword === "required" && typeof params["missingProperty"] === "string") {
      path = appendKey(path, params["missingProperty"]);
      message = "is required";
    } else if (e.keyword === "additionalProperties" && typeof params["additionalProperty"] === "string") {
      path = appendKey(path, params["additionalProperty"]);
      message = "is not allowed";
    } else if (e.keyword === "enum" && Array.isArray(params["allowedValues"])) {
      message = `must be one of ${params["allowedValues"].map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (e.keyword === "const") {
      message = `must be ${JSON.stringify(params["allowedValue"])}`;
    }
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}

function pointerToPath(pointer: string): string {
  return pointer;
}

/** Appends one JSON Pointer token. */
function appendKey(path: string, key: string): string {
  return `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}
