/** What a validation rule sees: the discovery and analysis IRs, the entry for project-level messages, the sdk's symbols and the model catalogue. */
import type { Analysis } from "../analyze/analyzed.ts";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Discovery } from "../discover/discovered.ts";
import type { SdkSymbols } from "../discover/sdk-symbols.ts";
import type { ModelCatalogue } from "../model-catalogue.ts";

export interface RuleInput {
  discovery: Discovery;
  /** Null when no service was found. */
  analysis: Analysis | null;
  entryFile: string;
  sdk: SdkSymbols;
  /** The local model store's listing, when the caller passed one (the model checks are skipped otherwise). */
  models: ModelCatalogue | undefined;
}

export type Rule = (input: RuleInput) => Diagnostic[];
