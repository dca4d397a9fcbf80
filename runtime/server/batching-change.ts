/**
 * The body of `POST /_bentoc/batching` (the `--admin` route): decoded and validated like any API body,
 * with the shared JSON decoder and an ajv schema, so errors name each field the same way.
 */
import type { JsonSchema } from "../../sdk/manifest.ts";
import { parseJsonBody } from "../io/decode-input.ts";
import { createSchemaCompiler, type Validate } from "../io/schema-validators.ts";
import type { BatchingChange } from "../runners/runner-host.ts";

const BATCHING_CHANGE_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    runner: { type: "string", minLength: 1 },
    enabled: { type: "boolean" },
    reset: { type: "boolean" },
    maxBatchSize: { type: "integer", minimum: 1, maximum: 4096 },
    maxLatencyMs: { type: "number", minimum: 0, maximum: 60_000 },
    policy: { enum: ["adaptive", "fixed"] },
  },
};

let validate: Validate | null | undefined;

/** `{ runner?, enabled?, maxBatchSize?, maxLatencyMs?, policy?, reset? }`, nothing else; throws `BadRequest`. */
export function parseBatchingChange(body: Uint8Array): BatchingChange {
  const value = parseJsonBody(body);
  validate ??= createSchemaCompiler({}).compile(BATCHING_CHANGE_SCHEMA);
  validate?.(value);
  return value as BatchingChange;
}
