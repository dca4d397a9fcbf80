/**
 * The error catalogue is the one definition of the runtime's error codes: the runtime builds its errors
 * only from it, the docs table matches it (the OpenAPI side is checked in test/unit/emit/openapi.test.ts).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { codesByStatus, ERROR_CATALOGUE, type ErrorCode, isErrorCode, STATUS_TEXT } from "../../../contract/error-catalogue.ts";
import type { RejectionCode } from "../../../runtime/batching/errors.ts";
import type { ProtocolErrorCode } from "../../../runtime/http/transport.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) return sources(rel);
    return rel.endsWith(".ts") ? [rel] : [];
  });
}

// Compile-time: the codes the transports and the dispatcher produce are catalogue codes.
const protocolCodes: readonly ErrorCode[] = ["bad_request", "headers_too_large", "request_timeout"] satisfies readonly ProtocolErrorCode[];
const rejectionCodes: readonly ErrorCode[] = ["overloaded", "deadline", "aborted", "not_ready"] satisfies readonly RejectionCode[];

describe("error catalogue", () => {
  it("gives every code a status with a reason phrase, and every status its codes", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^[a-z][a-z_]*$/);
      expect(STATUS_TEXT[entry.status], code).toBeDefined();
      expect(entry.title.length).toBeGreaterThan(0);
    }
    const all = [...codesByStatus().values()].flat();
    expect(new Set(all).size).toBe(Object.keys(ERROR_CATALOGUE).length);
    expect([...protocolCodes, ...rejectionCodes].every(isErrorCode)).toBe(true);
  });

  it("the runtime makes HTTP errors only from the catalogue", () => {
    const offenders: string[] = [];
    // runtime/scaffold/ writes a user's service (bentoc init), whose own HttpError is the user's to throw
    for (const file of sources("runtime").filter((f) => !f.startsWith("runtime/scaffold/"))) {
      const text = readFileSync(join(root, file), "utf8");
      // Errors are CatalogueErrors (a code fixes the status); a bare HttpError would bypass the catalogue.
      if (/new HttpError\(/.test(text)) offenders.push(`${file}: new HttpError(`);
      // Error bodies written by hand (the uWS last resort, protocol errors) use catalogue codes.
      for (const m of text.matchAll(/\\?"code\\?":\s*\\?"([a-z_]+)\\?"/g)) if (!isErrorCode(m[1] as string)) offenders.push(`${file}: code ${m[1]}`);
    }
    expect(offenders).toEqual([]);
  });

  it("docs/errors.md lists every code with its status and nothing else", () => {
    const doc = readFileSync(join(root, "docs", "errors.md"), "utf8");
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(ERROR_CATALOGUE).map(([c, e]) => [c, e.status])));
  });
});
