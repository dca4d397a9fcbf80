/** BC1012: batching options in range (maxBatchSize ≥ 1 integer, maxLatencyMs ≥ 0, batchDim 0 for arrays). */

import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const batching: Rule = ({ analysis }) => {
  if (!analysis) return [];
  const out: Diagnostic[] = [];
  for (const r of analysis.runners) {
    for (const m of r.methods) {
      const at = (option: string) => optionNode(m.options, option, m.decl.getNameNode());
      const { maxBatchSize, maxLatencyMs, batchDim } = m.manifest;
      if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
        out.push(
          createDiagnostic("BC1012", { option: `maxBatchSize = ${maxBatchSize}`, rule: "must be an integer ≥ 1 (1 disables batching)" }, at("maxBatchSize")),
        );
      }
      if (!(maxLatencyMs >= 0)) {
        out.push(createDiagnostic("BC1012", { option: `maxLatencyMs = ${maxLatencyMs}`, rule: "must be ≥ 0" }, at("maxLatencyMs")));
      }
      if (batchDim !== 0) {
        out.push(
          createDiagnostic(
            "BC1012",
            { option: `batchDim = ${batchDim}`, rule: "must be 0: a batchable method takes an array of items, concatenated along dimension 0" },
            at("batchDim"),
          ),
        );
      }
    }
  }
  return out;
};
