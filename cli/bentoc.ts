/** The `bentoc` command: thin wiring of compiler and runtime. Each subcommand lives in cli/commands/. */
import { Command } from "commander";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("bentoc")
  .description("Compile decorated TypeScript services and serve them with micro-batched ONNX runners")
  .version(pkg.version)
  .showHelpAfterError();

const registrations = [
  "./commands/compile.ts",
  "./commands/serve.ts",
  "./commands/models.ts",
  "./commands/config.ts",
  "./commands/bench.ts",
  "./commands/build.ts",
  "./commands/serve-runner.ts",
];
for (const path of registrations) {
  try {
    const mod = (await import(path)) as { register(program: Command): void };
    mod.register(program);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND" || !String(err).includes(path.slice(2))) throw err;
  }
}

await program.parseAsync(process.argv);
