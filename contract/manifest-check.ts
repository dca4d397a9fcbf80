/**
 * Reading a manifest: `bento.json` text → a `Manifest` the runtime may trust, or a `ManifestError` naming
 * the first field that is missing or wrong (`bento.json: /service/apis/0/route: missing required field`).
 * Checked against `MANIFEST_JSON_SCHEMA` by the validator ajv generated from it at development time
 * (contract/manifest-validator.ts, scripts/generate-validators.ts), so no process compiles it at start.
 */
import type { ErrorObject } from "ajv";
import { MANIFEST_SCHEMA_VERSION, type Manifest } from "../sdk/manifest.ts";
import { IO_DESCRIPTOR_KINDS } from "./manifest-schema.ts";
import { check } from "./manifest-validator.ts";
import { MANIFEST_FILE } from "./output-files.ts";

/** A manifest that is not JSON, of another schema version, or does not match the schema. */
export class ManifestError extends Error {
  override name = "ManifestError";
}

/** One line for an ajv error: the JSON Pointer of the field and what is wrong with it. */
export function describeManifestError(error: ErrorObject): string {
  const at = error.instancePath;
  switch (error.keyword) {
    case "required":
      return `${at}/${String(error.params["missingProperty"])}: missing required field`;
    case "additionalProperties":
      return `${at}/${String(error.params["additionalProperty"])}: unknown field`;
    case "false schema":
      return `${at}: not allowed here`;
    case "enum":
      return `${at || "/"}: must be one of ${(error.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "type":
      return `${at || "/"}: must be ${String(error.params["type"]).split(",").join(" or ")}`;
    case "discriminator": {
      const tag = String(error.params["tag"]);
      if (error.params["tagValue"] === undefined) return `${at}/${tag}: missing required field`;
      return `${at}/${tag}: must be one of ${IO_DESCRIPTOR_KINDS.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    case "const":
      return `${at || "/"}: must be ${JSON.stringify(error.params["allowedValue"])}`;
    default:
      return `${at || "/"}: ${error.message ?? "is invalid"}`;
  }
}

/** Checks a parsed manifest; `source` names it in the error (default `bento.json`). */
export function checkManifest(value: unknown, source: string = MANIFEST_FILE): Manifest {
  const version = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== MANIFEST_SCHEMA_VERSION) {
    throw new ManifestError(
      `${source} has schemaVersion ${JSON.stringify(version) ?? "(none)"}; this bentoc reads ${MANIFEST_SCHEMA_VERSION} (compile the service again with this bentoc)`,
    );
  }
  // the validator's type guard is lost in generated code: `value` is the Manifest it just checked
  if (check(value)) return value as Manifest;
  const first = check.errors?.[0];
  throw new ManifestError(`${source}: ${first ? describeManifestError(first) : "does not match the manifest schema"}`);
}

/** Parses and checks `bento.json` text. */
export function parseManifest(text: string, source: string = MANIFEST_FILE): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${source}: not JSON (${(err as Error).message})`);
  }
  return checkManifest(value, source);
}
