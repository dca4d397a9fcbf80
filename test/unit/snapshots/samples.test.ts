/**
 * Golden outputs: every sample's compiled files (all but the bundle) compared byte for byte with
 * snapshots/<sample>/. `RECORD=1 npm test` rewrites them; a stale, missing or changed file fails.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../../compiler/compile.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const samples = ["support-tickets", "tabular", "ocr", "streaming-text"];
const record = process.env["RECORD"] === "1";

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) walk(dir);
  return out.sort();
}

describe.each(samples)("sample %s", (sample) => {
  it("compiles to exactly the recorded snapshot", async () => {
    const out = mkdtempSync(join(tmpdir(), `bentoc-snap-${sample}-`));
    try {
      const result = await compile({ entry: join(root, "samples", sample), outDir: out, bundle: false });
      expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const snapDir = join(root, "snapshots", sample);
      const produced = listFiles(out);
      if (record) {
        rmSync(snapDir, { recursive: true, force: true });
        for (const f of produced) {
          mkdirSync(dirname(join(snapDir, f)), { recursive: true });
          writeFileSync(join(snapDir, f), readFileSync(join(out, f)));
        }
      }
      const recorded = listFiles(snapDir);
      expect(produced, "files produced vs recorded (RECORD=1 npm test to rewrite)").toEqual(recorded);
      for (const f of produced) {
        expect(readFileSync(join(out, f), "utf8"), `${sample}/${f} differs from its snapshot`).toBe(readFileSync(join(snapDir, f), "utf8"));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
