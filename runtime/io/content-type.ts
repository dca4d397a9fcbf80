/** Parsing and matching of `Content-Type` / `Accept` values. */
export interface MediaType {
  /** Lower-cased `type/subtype`. */
  type: string;
  params: Record<string, string>;
}

/** Clients send a handful of distinct values; parsing each once saves work and garbage per request. */
const parsed = new Map<string, Readonly<MediaType> | undefined>();
const PARSED_MAX = 64;

/** Parses a `Content-Type` value; the result is shared and frozen. */
export function parseContentType(header: string | undefined): Readonly<MediaType> | undefined {
  if (!header) return undefined;
  if (parsed.has(header)) return parsed.get(header);
  const result = parseUncached(header);
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
  parsed.set(header, result);
  return result;
}

function parseUncached(header: string): Readonly<MediaType> | undefined {
  const parts = header.split(";");
  const type = (parts[0] ?? "").trim().toLowerCase();
  if (!type) return undefined;
  const params: Record<string, string> = {};
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] ?? "";
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
  }
  return Object.freeze({ type, params: Object.freeze(params) });
}

export function isJsonType(type: string): boolean {
  return type === "application/json" || type.endsWith("+json");
}

/** Whether `type` matches `pattern` (`image/*`, `*\/*` or exact). */
export function mediaTypeMatches(pattern: string, type: string): boolean {
  const p = pattern.toLowerCase();
  if (p === "*/*" || p === "*") return true;
  if (p.endsWith("/*")) return type.startsWith(p.slice(0, -1));
  return p === type;
}

/** True when the `Accept` header names `type` explicitly (not only via wildcards). */
export function acceptsExplicitly(accept: string | undefined, type: string): boolean {
  if (!accept) return false;
  return accept
    .toLowerCase()
    .split(",")
    .some((a) => a.split(";")[0]?.trim() === type);
}
