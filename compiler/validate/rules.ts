/** What a validation rule sees: the discovery and analysis IRs, and the entry for project-level messages. */
import type { Analysis } from "../analyze/analyzed.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Discovery } from "../discover/discovered.ts";

export interface RuleInput {
  discovery: Discovery;
  /** Null when no service was found. */
  analysis: Analysis | null;
  entryFile: string;
}

export type Rule = (input: RuleInput) => Diagnostic[];
