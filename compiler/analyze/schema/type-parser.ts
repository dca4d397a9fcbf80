/**
 * One small parser per kind of type (ts-json-schema-generator style). The context tries them in order;
 * the first that `supports` a type turns it into JSON Schema, recursing through the context.
 */
import type { ts } from "ts-morph";
import type { JsonSchema } from "../../../sdk/manifest.ts";
import type { SchemaContext, SchemaLocation } from "./schema-context.ts";

export interface TypeParser {
  readonly name: string;
  supports(type: ts.Type, ctx: SchemaContext): boolean;
  parse(type: ts.Type, ctx: SchemaContext, at: SchemaLocation): JsonSchema;
}
