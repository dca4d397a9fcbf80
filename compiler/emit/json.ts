/**
 * The deterministic JSON writer every emitter uses: 2-space indent, a trailing newline, and object keys
 * sorted (by UTF-16 code unit, like `Array.prototype.sort`) wherever their order carries no meaning.
 * Callers say where order is meaningful with `sortKeys`; arrays always keep their order.
 *
 * Unlike `JSON.stringify` it refuses values that would silently change on a round trip (NaN, Infinity,
 * bigint, functions, symbols, cycles) instead of writing `null` or dropping them; `undefined` object
 * properties are omitted, as in `JSON.stringify`. `-0` is written as `0`.
 */

export type JsonPath = readonly (string | number)[];

export interface JsonWriteOptions {
  /**
   * Whether to sort the keys of the object at `path` (the keys and indices from the root).
   * `true` (default) sorts every object, `false` keeps insertion order everywhere.
   */
  sortKeys?: boolean | ((path: JsonPath) => boolean);
}

export class JsonWriteError extends Error {
  override name = "JsonWriteError";
  constructor(
    message: string,
    readonly path: JsonPath,
  ) {
    super(`${message} at ${formatPath(path)}`);
  }
}

function formatPath(path: JsonPath): string {
  return `$${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`;
}

/** Serialise `value` as deterministic, pretty JSON ending in a newline. */
export function toJson(value: unknown, options: JsonWriteOptions = {}): string {
  const sort = options.sortKeys ?? true;
  const shouldSort = typeof sort === "function" ? sort : () => sort;
  const seen = new Set<object>();
  const path: (string | number)[] = [];

  function write(v: unknown, indent: string): string {
    if (v === null) return "null";
    switch (typeof v) {
      case "string":
        return JSON.stringify(v);
      case "boolean":
        return v ? "true" : "false";
      case "number":
        if (!Number.isFinite(v)) throw new JsonWriteError(`non-finite number ${v}`, [...path]);
        return Object.is(v, -0) ? "0" : JSON.stringify(v);
      case "object":
        break;
      default:
        throw new JsonWriteError(`cannot write a ${typeof v} as JSON`, [...path]);
    }
    const obj = v as object;
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return write(toJSON.call(obj), indent);
    if (seen.has(obj)) throw new JsonWriteError("cycle", [...path]);
    seen.add(obj);
    const inner = `${indent}  `;
    let out: string;
    if (Array.isArray(obj)) {
      const items = obj.map((item, i) => {
        path.push(i);
        const s = write(item === undefined ? null : item, inner);
        path.pop();
        return s;
      });
      out = items.length === 0 ? "[]" : `[\n${inner}${items.join(`,\n${inner}`)}\n${indent}]`;
    } else {
      const record = obj as Record<string, unknown>;
      const keys = Object.keys(record).filter((k) => record[k] !== undefined);
      if (shouldSort(path)) keys.sort();
      const entries = keys.map((k) => {
        path.push(k);
        const s = `${JSON.stringify(k)}: ${write(record[k], inner)}`;
        path.pop();
        return s;
      });
      out = entries.length === 0 ? "{}" : `{\n${inner}${entries.join(`,\n${inner}`)}\n${indent}}`;
    }
    seen.delete(obj);
    return out;
  }

  return `${write(value, "")}\n`;
}
