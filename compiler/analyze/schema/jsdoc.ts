/**
 * JSDoc → JSON Schema annotations: the description, `@example` (parsed as JSON when it is JSON),
 * `@default`, `@deprecated` and the constraint tags (`@minimum`, `@maximum`, `@minLength`, `@maxLength`,
 * `@pattern`, `@format`, ...). Numeric tags whose text is not a number are ignored.
 */

import type { JsonSchema } from "../../../sdk/manifest.ts";
import { ts } from "../../ts-morph.ts";

const NUMERIC_TAGS = [
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
] as const;
const STRING_TAGS = ["pattern", "format", "title", "contentMediaType"] as const;

export function parseJsonOrText(text: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return trimmed;
  }
}

export function tagText(tag: ts.JSDocTagInfo): string {
  return ts.displayPartsToString(tag.text ?? []).trim();
}

export function description(symbol: ts.Symbol, checker: ts.TypeChecker): string | undefined {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  return text || undefined;
}

/** The annotations a symbol's JSDoc puts on its schema. */
export function annotations(symbol: ts.Symbol | undefined, checker: ts.TypeChecker): JsonSchema {
  if (!symbol) return {};
  const out: JsonSchema = {};
  const desc = description(symbol, checker);
  if (desc) out["description"] = desc;
  const examples: unknown[] = [];
  for (const tag of symbol.getJsDocTags(checker)) {
    const text = tagText(tag);
    if ((NUMERIC_TAGS as readonly string[]).includes(tag.name)) {
      const n = Number(text);
      if (text !== "" && Number.isFinite(n)) out[tag.name] = n;
    } else if ((STRING_TAGS as readonly string[]).includes(tag.name)) {
      if (text) out[tag.name] = text;
    } else if (tag.name === "example") {
      if (text) examples.push(parseJsonOrText(text));
    } else if (tag.name === "default") {
      if (text) out["default"] = parseJsonOrText(text);
    } else if (tag.name === "deprecated") {
      out["deprecated"] = true;
    }
  }
  if (examples.length) out["examples"] = examples;
  return out;
}

/** Whether a symbol's JSDoc asks for an integer (`@integer` or `@asType integer`). */
export function wantsInteger(symbol: ts.Symbol | undefined, checker: ts.TypeChecker): boolean {
  return !!symbol?.getJsDocTags(checker).some((t) => t.name === "integer" || (t.name === "asType" && tagText(t) === "integer"));
}
