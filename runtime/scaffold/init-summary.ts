/** What `bentoc init` prints: what it saved and wrote, then the commands to run next. */
import { relative } from "node:path";
import type { InitResult } from "./init-project.ts";

export function initSummary(r: InitResult, cwd: string): string {
  const where = relative(cwd, r.dir);
  const pkg = r.packageJson.created
    ? "package.json (new)"
    : `package.json (merged: ${r.packageJson.added.length ? `added ${r.packageJson.added.join(", ")}` : "nothing to add"}${r.packageJson.kept.length ? `; kept ${r.packageJson.kept.join(", ")}` : ""}${r.packageJson.changed.length ? `; changed ${r.packageJson.changed.join(", ")}` : ""})`;
  const lines = [
    `✓ bentoc init: service ${r.name} in ${where === "" ? "." : where}`,
    `  model  ${r.model.tag} ${r.model.reused ? "(already in the store)" : "saved"} in ${r.model.home}: ${r.model.origin}`,
    `  wrote  ${r.written.filter((f) => f !== "package.json").join(", ")}, ${pkg}`,
    "",
    "Next:",
    ...(where === "" ? [] : [`  cd ${where}`]),
    "  npm install",
    "  npx bentoc serve",
    `  curl -s localhost:3000/predict -H 'content-type: application/json' -d '${r.exampleBody}'`,
    "",
    "README.md has the rest (compile, the typed client, build, containerize).",
  ];
  return `${lines.join("\n")}\n`;
}
