/** `bentoc doctor [--json]`: what this installation and machine give a service (see runtime/doctor/). */
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("doctor")
    .description("Report bentoc, Node, platform, HTTP backend, onnxruntime and its execution providers, model store, container tools")
    .option("--json", "print the facts as JSON")
    .action(async (flags: { json?: boolean }) => {
      const [{ collectEnvironmentFacts }, { doctorText }] = await Promise.all([
        import("../../runtime/doctor/environment-facts.ts"),
        import("../../runtime/doctor/doctor-text.ts"),
      ]);
      const facts = await collectEnvironmentFacts();
      process.stdout.write(flags.json ? `${JSON.stringify(facts, null, 2)}\n` : doctorText(facts));
    });
}
