/** BC1009 invalid service/runner names, BC1014 invalid model tags. */

import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const NAME_RULE = "use lowercase letters, digits and '-', starting with a letter (e.g. 'support-tickets')";
export const MODEL_TAG_PATTERN = /^[a-z0-9][a-z0-9._-]*(?::[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export const names: Rule = ({ analysis }) => {
  if (!analysis) return [];
  const out: Diagnostic[] = [];
  const service = analysis.manifest.service;
  if (!NAME_PATTERN.test(service.name) || service.name.length > 63) {
    out.push(
      createDiagnostic(
        "BC1009",
        { kind: "service name", name: service.name, rule: NAME_RULE },
        optionNode(analysis.service.options, "name", analysis.service.decl.getNameNode() ?? analysis.service.decl),
      ),
    );
  }
  for (const r of analysis.runners) {
    const fallback = r.decl.getNameNode() ?? r.decl;
    if (!NAME_PATTERN.test(r.manifest.name) || r.manifest.name.length > 63) {
      out.push(createDiagnostic("BC1009", { kind: "runner name", name: r.manifest.name, rule: NAME_RULE }, optionNode(r.options, "name", fallback)));
    }
    if (r.manifest.model !== null && !MODEL_TAG_PATTERN.test(r.manifest.model)) {
      out.push(createDiagnostic("BC1014", { tag: r.manifest.model }, optionNode(r.options, "model", fallback)));
    }
  }
  return out;
};
