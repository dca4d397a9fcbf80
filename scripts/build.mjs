#!/usr/bin/env node
/**
 * `npm run build` (also `prepare` and `prepack`): compiles sdk/, compiler/, runtime/, bento/, loadtest/, cli/ and contract/ to
 * dist/ (JavaScript + .d.ts) with `tsc -b tsconfig.build.json`. tsc's build mode skips the work when no
 * source changed (~1 s), but it trusts its build info and never notices outputs that are missing or left
 * over, so first: when an expected output is missing the build info is dropped (a full build follows), and
 * outputs whose source is gone are deleted. dist/ then always holds exactly what the sources give, which is
 * what `npm pack` and a bento's packed bentoc take.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const config = join(root, "tsconfig.build.json");
const require = createRequire(import.meta.url);
const ts = require("typescript");

function fail(message) {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

const read = ts.readConfigFile(config, ts.sys.readFile);
if (read.error) fail(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, undefined, config);
if (parsed.errors.length > 0) fail(parsed.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")).join("\n"));
const outDir = parsed.options.outDir;
const buildInfo = parsed.options.tsBuildInfoFile;
if (!outDir || !buildInfo) fail("tsconfig.build.json must set outDir and tsBuildInfoFile");

const expected = new Set(parsed.fileNames.flatMap((file) => ts.getOutputFileNames(parsed, file, false)).map((f) => resolve(f)));

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

const present = listFiles(outDir);
const orphans = present.filter((f) => !expected.has(f));
for (const f of orphans) rmSync(f);
const missing = [...expected].filter((f) => !existsSync(f));
if (missing.length > 0 && existsSync(buildInfo)) rmSync(buildInfo);
if (orphans.length > 0)
  process.stdout.write(`build: removed ${orphans.length} output(s) without a source: ${orphans.map((f) => relative(root, f)).join(", ")}\n`);

const tsc = require.resolve("typescript/bin/tsc");
const result = spawnSync(process.execPath, [tsc, "-b", config], { cwd: root, stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
