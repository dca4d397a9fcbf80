/** BC1023: a runner's replica range (`scaling`) is one Kubernetes accepts: integers, 1 ≤ minReplicas ≤ maxReplicas. */

import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const scaling: Rule = ({ analysis }) => {
  if (!analysis) return [];
  const out: Diagnostic[] = [];
  for (const r of analysis.runners) {
    const fallback = r.decl.getNameNode() ?? r.decl;
    const at = (option: string) => optionNode(r.options, `scaling.${option}`, optionNode(r.options, "scaling", fallback));
    const { minReplicas, maxReplicas } = r.manifest.scaling;
    const minOk = Number.isInteger(minReplicas) && minReplicas >= 1;
    const maxOk = Number.isInteger(maxReplicas) && maxReplicas >= 1;
    if (!minOk) out.push(createDiagnostic("BC1023", { option: `minReplicas = ${minReplicas}`, rule: "must be an integer ≥ 1" }, at("minReplicas")));
    if (!maxOk) out.push(createDiagnostic("BC1023", { option: `maxReplicas = ${maxReplicas}`, rule: "must be an integer ≥ 1" }, at("maxReplicas")));
    if (minOk && maxOk && minReplicas > maxReplicas) {
      const where = r.options.nodes.has("scaling.maxReplicas") ? "maxReplicas" : "minReplicas";
      out.push(
        createDiagnostic(
          "BC1023",
          {
            option: `minReplicas = ${minReplicas}, maxReplicas = ${maxReplicas}`,
            rule: "minReplicas must not exceed maxReplicas (the autoscaler could never satisfy both)",
          },
          at(where),
        ),
      );
    }
  }
  return out;
};
