/**
 * JSON Schema `$ref`s to named schemas: `#/$defs/Name` (the manifest's `$defs`) and
 * `#/components/schemas/Name` (an OpenAPI document's). One parser and one resolver for the compiler's
 * emitters, the runtime (runner-split tensors) and the tests' schema sampler.
 */
import type { JsonSchema } from "../sdk/manifest.ts";

export const DEFS_REF_PREFIX = "#/$defs/";
export const COMPONENTS_REF_PREFIX = "#/components/schemas/";
const PREFIXES = [DEFS_REF_PREFIX, COMPONENTS_REF_PREFIX] as const;

/** Most `$ref`s followed in a row (a chain of aliases); a cycle stops earlier. */
const MAX_HOPS = 32;

/** The name a `$ref` points at under one of `prefixes`, decoded; undefined when it points elsewhere. */
export function refName(ref: unknown, prefixes: readonly string[] = PREFIXES): string | undefined {
  if (typeof ref !== "string") return undefined;
  const prefix = prefixes.find((p) => ref.startsWith(p));
  if (prefix === undefined) return undefined;
  const token = ref.slice(prefix.length);
  if (token.includes("/")) return undefined; // a pointer into a definition, not a definition
  let decoded = token;
  try {
    decoded = decodeURIComponent(token);
  } catch {
    // keep the raw token
  }
  return decoded.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** The `$defs` name a `$ref` points at, or undefined when it points elsewhere. */
export function defRefName(ref: unknown): string | undefined {
  return refName(ref, [DEFS_REF_PREFIX]);
}

/** Escapes a name as one JSON Pointer token inside a URI fragment (the inverse of `refName`). */
export function pointerToken(name: string): string {
  return encodeURIComponent(name.replace(/~/g, "~0").replace(/\//g, "~1")).replace(/%24/g, "$");
}

export interface ResolvedRef {
  /** The schema at the end of the `$ref` chain (the schema itself when it is no reference). */
  schema: JsonSchema;
  /** The name of the last definition followed; undefined when none was. */
  name: string | undefined;
}

/**
 * Follows `schema`'s `$ref` (and the target's, and so on) into `defs`, the named schemas of the document
 * (`manifest.$defs`, or an OpenAPI document's `components.schemas`). A `$ref` to a name `defs` lacks, or
 * one that loops, ends the chain there.
 */
export function resolveRef(schema: JsonSchema, defs: Readonly<Record<string, JsonSchema>>): ResolvedRef {
  const seen = new Set<string>();
  let current = schema;
  let name: string | undefined;
  while (seen.size < MAX_HOPS) {
    const next = refName(current["$ref"]);
    if (next === undefined || seen.has(next)) break;
    const target = Object.hasOwn(defs, next) ? defs[next] : undefined;
    if (target === undefined) break;
    seen.add(next);
    current = target;
    name = next;
  }
  return { schema: current, name };
}
