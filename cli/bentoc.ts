#!/usr/bin/env node
/**
 * The `bentoc` command: thin wiring of compiler and runtime. Each subcommand lives in cli/commands/; only
 * the module of the command being run is imported (cli/command-table.ts).
 */
import { Command } from "commander";
import { bentocVersion } from "../contract/package-root.ts";
import { commandEntriesFor } from "./command-table.ts";

const program = new Command("bentoc")
  .description("Compile decorated TypeScript services and serve them with micro-batched ONNX runners")
  .version(bentocVersion())
  .showHelpAfterError();

const modules = await Promise.all(commandEntriesFor(process.argv.slice(2)).map((e) => e.load()));
for (const command of modules) command.register(program);

await program.parseAsync(process.argv);
