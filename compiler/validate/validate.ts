/** Stage 3, validate: cross-checks over the discovery and the analysis, each rule in its own file. */
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { batching } from "./batching.ts";
import { limits } from "./limits.ts";
import { modelIo } from "./model-io.ts";
import { names } from "./names.ts";
import { routes } from "./routes.ts";
import type { Rule, RuleInput } from "./rules.ts";
import { runnerHandles } from "./runner-handles.ts";
import { runnerModels } from "./runner-models.ts";
import { runners } from "./runners.ts";
import { scaling } from "./scaling.ts";
import { serviceCount } from "./service-count.ts";

export const RULES: readonly Rule[] = [serviceCount, names, routes, runners, runnerHandles, runnerModels, modelIo, batching, limits, scaling];

export function validate(input: RuleInput): Diagnostic[] {
  return RULES.flatMap((rule) => rule(input));
}
