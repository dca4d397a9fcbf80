/** BC1016 for numeric options out of range: traffic limits and runner threads. */

import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const limits: Rule = ({ analysis }) => {
  if (!analysis) return [];
  const out: Diagnostic[] = [];
  const { traffic } = analysis.manifest.service;
  const fallback = analysis.service.decl.getNameNode() ?? analysis.service.decl;
  if (!(traffic.timeoutMs > 0))
    out.push(
      createDiagnostic(
        "BC1016",
        { option: "traffic.timeoutMs", rule: "must be > 0 milliseconds" },
        optionNode(analysis.service.options, "traffic.timeoutMs", fallback),
      ),
    );
  if (!Number.isInteger(traffic.maxConcurrency) || traffic.maxConcurrency < 1) {
    out.push(
      createDiagnostic(
        "BC1016",
        { option: "traffic.maxConcurrency", rule: "must be an integer ≥ 1" },
        optionNode(analysis.service.options, "traffic.maxConcurrency", fallback),
      ),
    );
  }
  for (const r of analysis.runners) {
    const { threads } = r.manifest;
    if (threads !== null && (!Number.isInteger(threads) || threads < 1)) {
      out.push(
        createDiagnostic("BC1016", { option: "threads", rule: "must be an integer ≥ 1" }, optionNode(r.options, "threads", r.decl.getNameNode() ?? r.decl)),
      );
    }
  }
  return out;
};
