/** `bentoc init [dir] [--model FILE] [--name NAME] [--force]`: scaffold a service project (runtime/scaffold/). */
import type { Command } from "commander";

interface InitFlags {
  model?: string;
  name?: string;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command("init")
    .description("Scaffold a service project: package.json, tsconfig, src/service.ts with one API and one batched runner, a model, bentofile, README")
    .argument("[dir]", "project directory (created when missing)", ".")
    .option("--model <file>", "serve this ONNX model (one float32 input [batch, features], one float32 output) instead of a starter classifier")
    .option("--name <name>", "service name (default: package.json's name or the directory's, in kebab-case)")
    .option("--force", "overwrite files that exist")
    .action(async (dir: string, flags: InitFlags) => {
      const [{ initProject }, { initSummary }] = await Promise.all([
        import("../../runtime/scaffold/init-project.ts"),
        import("../../runtime/scaffold/init-summary.ts"),
      ]);
      try {
        const result = await initProject({ dir, modelFile: flags.model, name: flags.name, force: flags.force === true });
        process.stdout.write(initSummary(result, process.cwd()));
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
