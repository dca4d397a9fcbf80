/**
 * Which module registers which top-level command. `bentoc <command> …` imports only the module of that
 * command, so a process pays for what it runs (`bentoc serve` never loads the registry client, the bento
 * builder, yaml or tar); anything else (`--help`, `--version`, `help`, a typo) imports every module in this
 * order, so the help listing and commander's suggestions are as before.
 */
import type { Command } from "commander";

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  /** The top-level command names (and aliases) the module registers. */
  readonly names: readonly string[];
  readonly load: () => Promise<CommandModule>;
}

export const COMMAND_TABLE: readonly CommandEntry[] = [
  { names: ["init"], load: () => import("./commands/init.ts") },
  { names: ["compile"], load: () => import("./commands/compile.ts") },
  { names: ["serve"], load: () => import("./commands/serve.ts") },
  { names: ["models"], load: () => import("./commands/models.ts") },
  { names: ["config"], load: () => import("./commands/config.ts") },
  { names: ["bench"], load: () => import("./commands/bench.ts") },
  { names: ["build", "list", "get", "delete", "export", "import", "containerize"], load: () => import("./commands/build.ts") },
  { names: ["push", "pull", "k8s"], load: () => import("./commands/bento-remote.ts") },
  { names: ["serve-runner"], load: () => import("./commands/serve-runner.ts") },
  { names: ["doctor"], load: () => import("./commands/doctor.ts") },
];

/** The entries to load for these arguments (argv without node and the script): one, or all of them. */
export function commandEntriesFor(args: readonly string[]): readonly CommandEntry[] {
  const first = args[0];
  const entry = first === undefined || first.startsWith("-") ? undefined : COMMAND_TABLE.find((e) => e.names.includes(first));
  return entry ? [entry] : COMMAND_TABLE;
}
