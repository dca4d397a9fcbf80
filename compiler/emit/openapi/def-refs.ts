/**
 * Rewriting the manifest's `$ref`s to wherever an emitter puts the named schemas
 * (`#/components/schemas/X` in OpenAPI, `#/$defs/X` again for a standalone schema). Parsing and resolving
 * `$ref`s is the contract's (contract/schema-ref.ts), shared with the runtime.
 */
import { defRefName } from "../../../contract/schema-ref.ts";

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
