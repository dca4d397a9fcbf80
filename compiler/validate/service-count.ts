/** BC1001 / BC1002: a bento serves exactly one @service. */
import { createDiagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const serviceCount: Rule = ({ discovery, entryFile }) => {
  const [first, ...others] = discovery.services;
  if (!first) return [createDiagnostic("BC1001", { entry: entryFile })];
  return others.map((s) => createDiagnostic("BC1002", { name: s.className, other: first.className }, s.decl.getNameNode() ?? s.decorator));
};
