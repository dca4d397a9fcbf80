/** `bentoc config [service-or-compiled-dir] [--config FILE] [-o yaml|json]`: prints the effective configuration. */

import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parseManifest } from "../../contract/manifest-check.ts";
import { MANIFEST_FILE } from "../../contract/output-files.ts";
import { ConfigError, loadConfig, printConfig } from "../../runtime/config/load-config.ts";
import type { Manifest } from "../../sdk/manifest.ts";

/** bento.json of a compiled dir, of a dir holding `.bentoc/`, or next to a service file (its `.bentoc/`). */
export function findManifest(target: string): Manifest {
  const abs = resolve(target);
  const stat = statSync(abs, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${target}: no such file or directory`);
  const base = stat.isDirectory() ? abs : resolve(abs, "..");
  for (const candidate of [join(base, MANIFEST_FILE), join(base, ".bentoc", MANIFEST_FILE)]) {
    if (existsSync(candidate)) return parseManifest(readFileSync(candidate, "utf8"), candidate);
  }
  throw new Error(`${target}: no ${MANIFEST_FILE} found; compile it first (bentoc compile ${target})`);
}

export function register(program: Command): void {
  program
    .command("config")
    .description("Print the effective configuration: defaults ← decorators ← bentoc.yaml ← BENTOC_* env ← flags")
    .argument("[service-or-compiled-dir]", "a service file or compiled dir, for decorator defaults (its bento.json)")
    .option("--config <file>", "config file (default: ./bentoc.yaml when present)")
    .option("-o, --output <format>", "yaml or json", "yaml")
    .action((target: string | undefined, flags: { config?: string; output: string }) => {
      if (flags.output !== "yaml" && flags.output !== "json") {
        process.stderr.write(`error: --output must be yaml or json, got ${flags.output}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const manifest = target === undefined ? undefined : findManifest(target);
        const config = loadConfig({ manifest, file: flags.config });
        process.stdout.write(printConfig(config, flags.output));
      } catch (err) {
        const lines = err instanceof ConfigError ? err.issues.map((i) => `${i.source}: ${i.path ? `${i.path}: ` : ""}${i.message}`) : [(err as Error).message];
        process.stderr.write(`${lines.map((l) => `error: ${l}`).join("\n")}\n`);
        process.exitCode = 1;
      }
    });
}
