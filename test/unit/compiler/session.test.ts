/** createAnalysisSession (for --watch): edits, new errors and fixes are picked up from disk. */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAnalysisSession } from "../../../compiler/analyze-entry.ts";

const DIR = resolve(import.meta.dirname, "../../fixtures/compiler", `.session-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const service = (route: string, extra = "") => `import { api, service } from "bentoc";
import { double } from "./helper.ts";
@service({ name: "watched" })
export class Watched {
  @api({ route: "${route}" })
  async twice(x: number): Promise<number> {
    ${extra}return double(x);
  }
}
`;

describe("analysis session", () => {
  it("re-analyses changed files only, and sees edits in imported files", async () => {
    mkdirSync(DIR, { recursive: true });
    const entry = join(DIR, "service.ts");
    const helper = join(DIR, "helper.ts");
    writeFileSync(helper, "export function double(x: number): number { return x * 2; }\n");
    writeFileSync(entry, service("/twice"));
    const session = createAnalysisSession({ entry: DIR });
    const first = await session.analyze();
    expect(first.diagnostics).toEqual([]);
    expect(first.manifest?.service.apis[0]?.route).toBe("/twice");
    expect(first.sourceFiles).toEqual(expect.arrayContaining([entry, helper]));

    writeFileSync(entry, service("/double"));
    const second = await session.analyze([entry]);
    expect(second.manifest?.service.apis[0]?.route).toBe("/double");

    writeFileSync(entry, service("/double", "const s: string = 1;\n    "));
    const broken = await session.analyze([entry]);
    expect(broken.manifest).toBeNull();
    expect(broken.diagnostics.map((d) => [d.code, d.line])).toEqual([["TS2322", 7]]);

    writeFileSync(helper, "export function double(x: number): string { return String(x * 2); }\n");
    writeFileSync(entry, service("/double"));
    const viaHelper = await session.analyze([entry, helper]);
    expect(viaHelper.diagnostics.map((d) => d.code)).toEqual(["TS2322"]);

    writeFileSync(helper, "export function double(x: number): number { return x * 2; }\n");
    const fixed = await session.analyze([helper]);
    expect(fixed.diagnostics).toEqual([]);
    expect(fixed.manifest?.service.name).toBe("watched");
  });

  it("reports BC1015 for a missing entry", async () => {
    const r = await createAnalysisSession({ entry: join(DIR, "nope") }).analyze();
    expect(r.manifest).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(["BC1015"]);
  });
});
