/**
 * JSON Schema 2020-12 (as the compiler writes it) → TypeScript type text for the generated client:
 * interfaces for object definitions, unions for enums/anyOf/oneOf/type arrays, literal types for const,
 * tuples for prefixItems, records for additionalProperties, optional and readonly fields, and JSDoc
 * comments carrying descriptions, examples and constraints.
 */

import { defRefName } from "../../../contract/schema-ref.ts";
import type { JsonSchema } from "../../../sdk/manifest.ts";

export interface TsRenderContext {
  /** The TypeScript name of a `$defs` entry (undefined when unknown: rendered as `unknown`). */
  typeName(defName: string): string | undefined;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A declaration for a named schema: an interface when it is a plain object, a type alias otherwise. */
export function renderDeclaration(name: string, schema: JsonSchema, ctx: TsRenderContext): string {
  const doc = renderDocComment(schema, "");
  if (isPlainObject(schema)) return `${doc}export interface ${name} ${renderObject(schema, ctx, "")}\n`;
  return `${doc}export type ${name} = ${renderType(schema, ctx, "")};\n`;
}

/** The type of `schema` as TypeScript source; `indent` is the indentation of the line it starts on. */
export function renderType(schema: unknown, ctx: TsRenderContext, indent: string): string {
  if (schema === true || schema === undefined) return "unknown";
  if (schema === false) return "never";
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return "unknown";
  const s = schema as JsonSchema;
  if (s["$ref"] !== undefined) {
    const def = defRefName(s["$ref"]);
    return (def !== undefined && ctx.typeName(def)) || "unknown";
  }
  if ("const" in s) return literal(s["const"]);
  if (Array.isArray(s["enum"])) return union(s["enum"].map(literal));
  const alternatives = (s["anyOf"] ?? s["oneOf"]) as unknown[] | undefined;
  if (Array.isArray(alternatives)) {
    const choice = union(alternatives.map((a) => renderType(a, ctx, indent)));
    const rest = withoutKeys(s, ["anyOf", "oneOf"]);
    return hasStructure(rest) ? intersection([renderType(rest, ctx, indent), choice]) : choice;
  }
  if (Array.isArray(s["allOf"])) {
    const parts = (s["allOf"] as unknown[]).map((a) => renderType(a, ctx, indent));
    const rest = withoutKeys(s, ["allOf"]);
    return intersection(hasStructure(rest) ? [renderType(rest, ctx, indent), ...parts] : parts);
  }
  const type = s["type"];
  if (Array.isArray(type)) return union(type.map((t) => renderType({ ...s, type: t }, ctx, indent)));
  switch (type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return renderArray(s, ctx, indent);
    case "object":
      return renderObject(s, ctx, indent);
    default:
      if (s["properties"] !== undefined || s["additionalProperties"] !== undefined) return renderObject(s, ctx, indent);
      if (s["items"] !== undefined || s["prefixItems"] !== undefined) return renderArray(s, ctx, indent);
      return "unknown";
  }
}

function renderArray(s: JsonSchema, ctx: TsRenderContext, indent: string): string {
  const prefix = s["prefixItems"];
  if (Array.isArray(prefix)) {
    const min = typeof s["minItems"] === "number" ? s["minItems"] : prefix.length;
    const elements = prefix.map((p, i) => renderType(p, ctx, indent) + (i >= min ? "?" : ""));
    const items = s["items"];
    if (items !== undefined && items !== false) elements.push(`...${element(renderType(items, ctx, indent))}[]`);
    return `[${elements.join(", ")}]`;
  }
  return `${element(renderType(s["items"], ctx, indent))}[]`;
}

function renderObject(s: JsonSchema, ctx: TsRenderContext, indent: string): string {
  const props = (s["properties"] ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(s["required"]) ? (s["required"] as string[]) : []);
  const additional = s["additionalProperties"];
  const names = Object.keys(props);
  if (names.length === 0) {
    if (additional === false) return "Record<string, never>";
    const value = additional === undefined || additional === true ? "unknown" : renderType(additional, ctx, indent);
    const keys = (s["propertyNames"] as JsonSchema | undefined)?.["enum"];
    if (Array.isArray(keys)) return `Partial<Record<${union(keys.map(literal))}, ${value}>>`;
    return `Record<string, ${value}>`;
  }
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const name of names) {
    const prop = props[name];
    const doc = prop !== null && typeof prop === "object" ? renderDocComment(prop as JsonSchema, inner) : "";
    const readonly = (prop as JsonSchema | undefined)?.["readOnly"] === true ? "readonly " : "";
    const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
    const optional = required.has(name) ? "" : "?";
    lines.push(`${doc}${inner}${readonly}${key}${optional}: ${renderType(prop, ctx, inner)};\n`);
  }
  if (additional !== undefined && additional !== false) lines.push(`${inner}[key: string]: unknown;\n`);
  return `{\n${lines.join("")}${indent}}`;
}

/** A JSDoc block for a schema's description, examples, deprecation and constraints ("" when none). */
export function renderDocComment(s: JsonSchema, indent: string): string {
  const lines: string[] = [];
  if (typeof s["description"] === "string") lines.push(...s["description"].split("\n"));
  else if (typeof s["title"] === "string") lines.push(s["title"]);
  for (const tag of [
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "multipleOf",
  ]) {
    const v = s[tag];
    if (v !== undefined && (typeof v === "string" || typeof v === "number")) lines.push(`@${tag} ${v}`);
  }
  if (s["default"] !== undefined) lines.push(`@default ${JSON.stringify(s["default"])}`);
  if (Array.isArray(s["examples"])) for (const e of s["examples"]) lines.push(`@example ${JSON.stringify(e)}`);
  if (s["deprecated"] === true) lines.push("@deprecated");
  if (lines.length === 0) return "";
  const safe = lines.map((l) => l.replace(/\*\//g, "*\\/").trimEnd());
  if (safe.length === 1) return `${indent}/** ${safe[0]} */\n`;
  return `${indent}/**\n${safe.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)).join("\n")}\n${indent} */\n`;
}

function isPlainObject(s: JsonSchema): boolean {
  if (s["$ref"] !== undefined || s["anyOf"] || s["oneOf"] || s["allOf"] || s["enum"] || "const" in s) return false;
  return s["type"] === "object" && typeof s["properties"] === "object" && Object.keys(s["properties"] as object).length > 0;
}

function hasStructure(s: JsonSchema): boolean {
  return s["type"] !== undefined || s["properties"] !== undefined || s["items"] !== undefined;
}

function withoutKeys(s: JsonSchema, keys: string[]): JsonSchema {
  return Object.fromEntries(Object.entries(s).filter(([k]) => !keys.includes(k)));
}

function literal(v: unknown): string {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v === null) return JSON.stringify(v);
  return "unknown";
}

function union(members: string[]): string {
  const unique = [...new Set(members)];
  if (unique.length === 0) return "never";
  if (unique.includes("unknown")) return "unknown";
  return unique.length === 1 ? (unique[0] as string) : unique.map(wrapComposite).join(" | ");
}

function intersection(members: string[]): string {
  const unique = [...new Set(members.filter((m) => m !== "unknown"))];
  if (unique.length === 0) return "unknown";
  return unique.length === 1 ? (unique[0] as string) : unique.map(wrapComposite).join(" & ");
}

/** Parenthesises an element type that has a top-level `|` or `&` (so `[]` binds to the whole). */
function element(type: string): string {
  return wrapComposite(type);
}

function wrapComposite(type: string): string {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < type.length; i++) {
    const c = type[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "/" && type[i + 1] === "*") {
      const end = type.indexOf("*/", i + 2);
      i = end < 0 ? type.length : end + 1;
      continue;
    }
    if (c === '"') quote = c;
    else if (c === "{" || c === "(" || c === "[" || c === "<") depth++;
    else if (c === "}" || c === ")" || c === "]" || c === ">") depth--;
    else if (depth === 0 && (c === "|" || c === "&")) return `(${type})`;
  }
  return type;
}
