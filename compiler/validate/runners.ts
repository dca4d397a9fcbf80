/** BC1003 depends() on a non-runner, BC1013 two runners with one name, BC2001 runner nobody depends on. */

import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const runners: Rule = ({ discovery, analysis }) => {
  const out: Diagnostic[] = [];
  const service = discovery.services[0];
  const runnerDecls = new Set(discovery.runners.map((r) => r.decl));
  for (const dep of service?.dependencies ?? []) {
    if (!dep.target || !runnerDecls.has(dep.target)) {
      out.push(createDiagnostic("BC1003", { name: dep.argument?.getText() ?? "" }, dep.argument ?? dep.call));
    }
  }
  if (!analysis) return out;
  const byName = new Map<string, string>();
  for (const r of analysis.runners) {
    if (!r.used) {
      const file = r.decl.getSourceFile().getFilePath();
      if (!file.includes("/node_modules/")) out.push(createDiagnostic("BC2001", { name: r.manifest.name }, r.decl.getNameNode() ?? r.decl));
      continue;
    }
    const other = byName.get(r.manifest.name);
    if (other !== undefined) {
      out.push(
        createDiagnostic(
          "BC1013",
          { name: r.manifest.name, className: r.manifest.className, other },
          optionNode(r.options, "name", r.decl.getNameNode() ?? r.decl),
        ),
      );
    } else byName.set(r.manifest.name, r.manifest.className);
  }
  return out;
};
