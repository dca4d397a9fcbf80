/**
 * BC1021: a tsconfig with `experimentalDecorators: true` gets one located diagnostic saying what to
 * change, instead of TS1238/TS1241 on every decorator. The fixture's formatted output is a snapshot
 * (`RECORD=1` rewrites it).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeEntry } from "../../../compiler/analyze-entry.ts";
import { formatDiagnostics } from "../../../compiler/diagnostics/format.ts";
import { repoRoot } from "../../helpers/serve-sample.ts";

const FIXTURE = join(repoRoot, "test/fixtures/broken/experimental-decorators");
const SNAPSHOT = join(FIXTURE, "diagnostics.txt");
const record = process.env["RECORD"] === "1";
const scratch = mkdtempSync(join(tmpdir(), "bentoc-decorator-mode-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("experimentalDecorators (BC1021)", () => {
  it("is reported at the tsconfig's key, alone, and nothing is emitted", async () => {
    const result = await analyzeEntry({ entry: join(FIXTURE, "service.ts") });
    const config = join(FIXTURE, "tsconfig.json");
    const line =
      readFileSync(config, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("expect: BC1021")) + 1;
    expect(result.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([["BC1021", config, line, 5]]);
    expect(result.diagnostics[0]?.message).toMatch(/Remove "experimentalDecorators" .* or set it to false/);
    expect(result.manifest).toBeNull();
    const text = formatDiagnostics(result.diagnostics, { cwd: repoRoot, color: false });
    if (record) writeFileSync(SNAPSHOT, `${text}\n`);
    expect(`${text}\n`).toBe(readFileSync(SNAPSHOT, "utf8"));
  });

  it("is found in the config a tsconfig extends, and not reported when the setting is off", async () => {
    const service = readFileSync(join(FIXTURE, "service.ts"), "utf8");
    const dir = join(scratch, "extends");
    mkdirSync(dir, { recursive: true });
    // outside the repository "bentoc" does not resolve; the setting is found before any type is checked
    writeFileSync(join(dir, "base.json"), JSON.stringify({ compilerOptions: { experimentalDecorators: true, strict: true } }, null, 2));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: "./base.json", compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }, null, 2),
    );
    writeFileSync(join(dir, "service.ts"), service);
    const inBase = await analyzeEntry({ entry: join(dir, "service.ts"), typecheck: false });
    expect(inBase.diagnostics.filter((d) => d.code === "BC1021").map((d) => [d.file, d.line])).toEqual([[join(dir, "base.json"), 3]]);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "./base.json", compilerOptions: { experimentalDecorators: false } }, null, 2));
    const off = await analyzeEntry({ entry: join(dir, "service.ts"), typecheck: false });
    expect(off.diagnostics.map((d) => d.code)).not.toContain("BC1021");
  });
});
