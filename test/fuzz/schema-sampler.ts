/**
 * Values for a JSON Schema (2020-12, as the OpenAPI documents of bentoc services hold them): valid ones,
 * boundary ones (at each limit: lengths, bounds, item counts) and invalid ones (one mutation each: wrong
 * type, missing required field, unknown field, out of range, not in the enum, too long, too deep). Seeded,
 * so a failure replays. `$ref`s resolve against the document's `components/schemas`.
 */
import { resolveRef } from "../../contract/schema-ref.ts";
import { mulberry32 } from "../../runtime/models/prng.ts";

export type Rand = () => number;

type Schema = Record<string, unknown>;

/** A replayable uniform generator in [0, 1) (the project's mulberry32). */
export function seeded(seed: number): Rand {
  return mulberry32(seed);
}

const WORDS = [
  "refund",
  "invoice",
  "login",
  "crash",
  "password",
  "charged",
  "twice",
  "account",
  "error",
  "é",
  "日本",
  "🙂",
  "\u0000",
  " ",
  "'",
  '"',
  "<script>",
  "\\n",
];

export class SchemaSampler {
  constructor(
    private readonly components: Record<string, Schema>,
    private readonly rand: Rand,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)] as T;
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  resolve(schema: Schema): Schema {
    return resolveRef(schema, this.components).schema;
  }

  private types(s: Schema): string[] {
    const t = s["type"];
    if (Array.isArray(t)) return t as string[];
    if (typeof t === "string") return [t];
    if ("properties" in s) return ["object"];
    if ("items" in s || "prefixItems" in s) return ["array"];
    return [];
  }

  /** A value the schema accepts (`edge`: at the limits where it has them). */
  valid(input: Schema, depth = 0, edge = false): unknown {
    const s = this.resolve(input);
    if ("const" in s) return s["const"];
    if (Array.isArray(s["enum"])) return this.pick(s["enum"] as unknown[]);
    for (const key of ["anyOf", "oneOf"]) if (Array.isArray(s[key])) return this.valid(this.pick(s[key] as Schema[]), depth + 1, edge);
    if (Array.isArray(s["allOf"])) return this.valid((s["allOf"] as Schema[])[0] ?? {}, depth + 1, edge);
    const type = this.pick(this.types(s).length > 0 ? this.types(s) : ["string", "number", "boolean", "null"]);
    switch (type) {
      case "string": {
        const min = typeof s["minLength"] === "number" ? s["minLength"] : 0;
        const max = typeof s["maxLength"] === "number" ? s["maxLength"] : Math.max(min, 40);
        const len = edge ? this.pick([min, max]) : this.int(Math.max(min, Math.min(1, max)), Math.min(max, min + 40));
        if (s["format"] === "date-time") return new Date(Date.UTC(2026, 0, 1 + this.int(0, 300))).toISOString();
        let out = "";
        while ([...out].length < len) out += `${this.pick(WORDS.slice(0, 9))} `;
        return [...out].slice(0, len).join("");
      }
      case "integer":
      case "number": {
        const lo = typeof s["minimum"] === "number" ? s["minimum"] : typeof s["exclusiveMinimum"] === "number" ? s["exclusiveMinimum"] + 1 : -1000;
        const hi = typeof s["maximum"] === "number" ? s["maximum"] : typeof s["exclusiveMaximum"] === "number" ? s["exclusiveMaximum"] - 1 : 1000;
        if (edge) return this.pick([lo, hi]);
        const v = lo + this.rand() * (hi - lo);
        return type === "integer" ? Math.round(v) : Math.round(v * 1000) / 1000;
      }
      case "boolean":
        return this.rand() < 0.5;
      case "null":
        return null;
      case "array": {
        const prefix = Array.isArray(s["prefixItems"]) ? (s["prefixItems"] as Schema[]) : [];
        const min = typeof s["minItems"] === "number" ? s["minItems"] : prefix.length;
        const max = typeof s["maxItems"] === "number" ? s["maxItems"] : Math.max(min, 4);
        const n = edge ? this.pick([min, max]) : this.int(min, Math.min(max, min + 4));
        const items = typeof s["items"] === "object" && s["items"] !== null ? (s["items"] as Schema) : {};
        // Limits one at a time: a long array's items are ordinary (64 texts of 4,000 characters each would
        // test no more than one, and cost the encoder ~0.3 s per request).
        const itemEdge = edge && n <= 8;
        return Array.from({ length: n }, (_, i) =>
          i < prefix.length ? this.valid(prefix[i] as Schema, depth + 1, itemEdge) : depth > 6 ? null : this.valid(items, depth + 1, itemEdge),
        );
      }
      default: {
        const props = (s["properties"] ?? {}) as Record<string, Schema>;
        const required = new Set(Array.isArray(s["required"]) ? (s["required"] as string[]) : []);
        const out: Record<string, unknown> = {};
        for (const [k, p] of Object.entries(props))
          if (required.has(k) || (depth < 6 && this.rand() < (edge ? 1 : 0.5))) out[k] = this.valid(p, depth + 1, edge);
        const extra = s["additionalProperties"];
        if (typeof extra === "object" && extra !== null && this.rand() < 0.3) out[`k${this.int(0, 99)}`] = this.valid(extra as Schema, depth + 1, edge);
        return out;
      }
    }
  }

  /** A value the schema refuses, by one mutation (or a wholly wrong type). */
  invalid(input: Schema, depth = 0): unknown {
    const s = this.resolve(input);
    const types = this.types(s);
    const accepted = (v: unknown): boolean => types.includes(kindOf(v)) || (kindOf(v) === "integer" && types.includes("number"));
    const wrongType = () => this.pick([42, "not what you want", true, null, [], {}, -0.5, "9".repeat(400)].filter((v) => !accepted(v)));
    const props = (s["properties"] ?? {}) as Record<string, Schema>;
    const required = Array.isArray(s["required"]) ? (s["required"] as string[]) : [];
    const options: (() => unknown)[] = [wrongType];
    if (types.includes("object") || Object.keys(props).length > 0) {
      if (required.length > 0)
        options.push(() => {
          const v = this.valid(s, depth) as Record<string, unknown>;
          delete v[this.pick(required)];
          return v;
        });
      if (s["additionalProperties"] === false) options.push(() => ({ ...(this.valid(s, depth) as object), [`unknown_${this.int(0, 9)}`]: 1 }));
      const keys = Object.keys(props);
      if (keys.length > 0 && depth < 6)
        options.push(() => {
          const v = this.valid(s, depth) as Record<string, unknown>;
          const k = this.pick(keys);
          v[k] = this.invalid(props[k] as Schema, depth + 1);
          return v;
        });
    }
    if (types.includes("string")) {
      if (typeof s["maxLength"] === "number") options.push(() => "x".repeat((s["maxLength"] as number) + 1 + this.int(0, 100)));
      if (typeof s["minLength"] === "number" && (s["minLength"] as number) > 0) options.push(() => "");
    }
    if (types.includes("number") || types.includes("integer")) {
      if (typeof s["minimum"] === "number") options.push(() => (s["minimum"] as number) - 1 - this.int(0, 1000));
      if (typeof s["maximum"] === "number") options.push(() => (s["maximum"] as number) + 1 + this.int(0, 1000));
      if (types.includes("integer")) options.push(() => 1.5);
    }
    if (Array.isArray(s["enum"])) options.push(() => "not-in-the-enum");
    if (types.includes("array")) {
      const items = typeof s["items"] === "object" && s["items"] !== null ? (s["items"] as Schema) : undefined;
      if (typeof s["maxItems"] === "number")
        options.push(() => Array.from({ length: (s["maxItems"] as number) + 1 }, () => (items ? this.valid(items, depth + 1) : 0)));
      if (typeof s["minItems"] === "number" && (s["minItems"] as number) > 0) options.push(() => []);
      if (items && depth < 6) options.push(() => [this.invalid(items, depth + 1)]);
    }
    return this.pick(options)();
  }
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
