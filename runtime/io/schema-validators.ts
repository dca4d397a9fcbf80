/**
 * JSON Schema validation with ajv (draft 2020-12), compiled ONCE per schema at start. The manifest's
 * shared `$defs` are attached to each compiled schema so `{ "$ref": "#/$defs/Name" }` resolves.
 * Errors become `FieldProblem`s: a JSON Pointer to the field (`/items/0/name`, `""` for the whole body) and why.
 */
import Ajv2020Module from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { JsonSchema } from "../../sdk/manifest.ts";
import { BadRequest, type FieldProblem } from "../errors/http-errors.ts";

// CJS default-export interop under NodeNext.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default;

/** Checks a value; throws `BadRequest` (`invalid_input`) naming every offending field. */
export type Validate = (value: unknown) => void;

export interface SchemaCompiler {
  /** Returns null when the schema accepts everything (nothing to check). */
  compile(schema: JsonSchema): Validate | null;
}

export function createSchemaCompiler(defs: Record<string, JsonSchema>, options: { coerceTypes?: boolean } = {}): SchemaCompiler {
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: options.coerceTypes ?? false, allowUnionTypes: true });
  addFormats(ajv);
  return {
    compile(schema) {
      if (isAcceptAll(schema)) return null;
      const fn: ValidateFunction = ajv.compile({ ...schema, $defs: { ...defs, ...(schema["$defs"] as object | undefined) } });
      return (value) => {
        if (fn(value)) return;
        const problems = toProblems(fn.errors ?? []);
        const summary = problems.slice(0, 3).map((p) => `${p.path || "(body)"} ${p.message}`).join("; ");
        throw new BadRequest(`invalid input: ${summary}${problems.length > 3 ? `; and ${problems.length - 3} more` : ""}`, "invalid_input", problems);
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
