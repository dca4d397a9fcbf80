/**
 * The manifest's and the configuration's validators are ajv "standalone" code generated at development
 * time (scripts/generate-validators.ts), so that no process compiles them at start. They must be what the
 * schemas give now: a stale one would accept or refuse by an old schema.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderValidators, VALIDATOR_FILES } from "../../../scripts/generate-validators.ts";

describe("generated validators", () => {
  it("are the regeneration of the current schemas (run `npx tsx scripts/generate-validators.ts` after editing one)", () => {
    const fresh = renderValidators();
    expect(readFileSync(VALIDATOR_FILES.manifest, "utf8")).toBe(fresh.manifest);
    expect(readFileSync(VALIDATOR_FILES.config, "utf8")).toBe(fresh.config);
  });
});
