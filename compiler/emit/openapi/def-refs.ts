/**
 * `$ref`s into the manifest's `$defs`: parsing them and rewriting them to wherever an emitter puts the
 * named schemas (`#/components/schemas/X` in OpenAPI, `#/$defs/X` again for a standalone schema).
 */
import type { JsonSchema } from "../../../sdk/manifest.ts";

const DEFS_PREFIX = "#/$defs/";

/** The `$defs` name a `$ref` points at, or undefined when it points elsewhere. */
export function defRefName(ref: unknown): string | undefined {
  if (typeof ref !== "string" || !ref.startsWith(DEFS_PREFIX)) return undefined;
  const token = ref.slice(DEFS_PREFIX.length);
  if (token.includes("/")) return undefined; // a pointer into a definition, not a definition
  let decoded = token;
  try {
    decoded = decodeURIComponent(token);
  } catch {
    // keep the raw token
  }
  return decoded.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Escapes a name as one JSON Pointer token inside a URI fragment. */
export function pointerToken(name: string): string {
  return encodeURIComponent(name.replace(/~/g, "~0").replace(/\//g, "~1")).replace(/%24/g, "$");
}

/** A deep copy of `value` with every `$ref` to `#/$defs/X` replaced by `target(X)`. */
export function rewriteDefRefs<T>(value: T, target: (name: string) => string): T {
  if (Array.isArray(value)) return value.map((v) => rewriteDefRefs(v, target)) as T;
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const name = key === "$ref" ? defRefName(v) : undefined;
    out[key] = name !== undefined ? target(name) : rewriteDefRefs(v, target);
  }
  return out as T;
}

/** Resolves a schema that is a bare `$ref` to a definition; other schemas are returned as they are. */
export function resolveDef(schema: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  const seen = new Set<string>();
  let current = schema;
  for (;;) {
    const name = defRefName(current["$ref"]);
    if (name === undefined || seen.has(name) || Object.keys(current).length !== 1) return current;
    seen.add(name);
    const next = defs[name];
    if (!next) return current;
    current = next;
  }
}

/**
 * Chooses a name matching `pattern` for each definition, keeping names that already match and never
 * taking one of `reserved`; the result is the same for the same input, whatever the key order.
 */
export function allocateNames(names: readonly string[], reserved: ReadonlySet<string>, sanitize: (name: string) => string): Map<string, string> {
  const taken = new Set(reserved);
  const out = new Map<string, string>();
  for (const name of [...names].sort()) {
    let candidate = sanitize(name);
    while (taken.has(candidate)) candidate += "_";
    taken.add(candidate);
    out.set(name, candidate);
  }
  return out;
}
