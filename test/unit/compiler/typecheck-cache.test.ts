/**
 * TypecheckCache (for --watch): after an edit only the files whose diagnostics can have changed are
 * checked again, and the diagnostics are those of a fresh analysis of the same files.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeEntry, analyzeProject } from "../../../compiler/analyze-entry.ts";
import { createProjectForEntry, findProjectRoot } from "../../../compiler/program.ts";
import { TypecheckCache } from "../../../compiler/typecheck-cache.ts";

const DIR = resolve(import.meta.dirname, "../../fixtures/compiler", `.typecheck-cache-${process.pid}`);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const service = (route: string) => `import { api, service } from "bentoc";
import { double } from "./helper.ts";
@service({ name: "cached" })
export class Cached {
  @api({ route: "${route}" })
  async twice(x: number): Promise<number> {
    return double(x);
  }
}
`;
const HELPER_BROKEN = 'export function double(x: number): number { return x * 2; }\nexport const n: number = "x";\n';
const HELPER_FIXED = "export function double(x: number): number { return x * 2; }\n";

describe("TypecheckCache", () => {
  it("checks again only the edited file and the files that import it, with a fresh analysis's diagnostics", async () => {
    mkdirSync(DIR, { recursive: true });
    const entry = join(DIR, "service.ts");
    const helper = join(DIR, "helper.ts");
    writeFileSync(helper, HELPER_BROKEN);
    writeFileSync(entry, service("/twice"));
    const project = createProjectForEntry(entry);
    const cache = new TypecheckCache();
    const run = (...changed: string[]) => {
      for (const f of changed) project.getSourceFile(f)!.refreshFromFileSystemSync();
      project.resolveSourceFileDependencies();
      return analyzeProject({ project, entryFile: entry, projectRoot: findProjectRoot(entry), typecheck: true, typecheckCache: cache });
    };
    const fresh = async () => (await analyzeEntry({ entry })).diagnostics;
    const codes = (r: { diagnostics: Array<{ code: string; file?: string; line?: number }> }) => r.diagnostics.map((d) => [d.code, d.file, d.line]);

    const first = run();
    expect(cache.lastChecked).toEqual([entry, helper]);
    expect(codes(first)).toEqual([["TS2322", helper, 2]]);

    writeFileSync(entry, service("/double"));
    const edited = run(entry);
    expect(cache.lastChecked).toEqual([entry]);
    expect(edited.diagnostics).toEqual(await fresh());

    writeFileSync(helper, HELPER_FIXED);
    const fixed = run(helper);
    expect(cache.lastChecked).toEqual([entry, helper]);
    expect(fixed.diagnostics).toEqual([]);
    expect(fixed.manifest?.service.apis[0]?.route).toBe("/double");

    // a global declaration can change any file's diagnostics: everything is checked again
    writeFileSync(helper, `${HELPER_FIXED}declare global {\n  var counter: number;\n}\n`);
    run(helper);
    expect(cache.lastChecked).toEqual([entry, helper]);
    writeFileSync(entry, `${service("/double")}export const c: string = counter;\n`);
    const global = run(entry);
    expect(cache.lastChecked).toEqual([entry]);
    expect(global.diagnostics).toEqual(await fresh());
    expect(codes(global)).toEqual([["TS2322", entry, 10]]);
  });
});
