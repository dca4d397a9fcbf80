/**
 * A runner's model, as the compiler can see it:
 * - BC1025: a field typed as the sdk's `Model` that the runtime never sets — the runner has no `model`
 *   option (nothing is loaded), or the field is not the one named `model` (the only one the runtime sets);
 * - with a model catalogue (the local store's listing, passed in by the CLI): a tag that is not in the
 *   store, BC2003 (warning) at `compile`, BC1026 (error) at `build`, listing what the store holds.
 * Whether the model's inputs and outputs fit the runner is `model-io.ts`.
 */
import type { ClassDeclaration, PropertyDeclaration } from "ts-morph";
import type { AnalyzedRunner } from "../analyze/analyzed.ts";
import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { SdkSymbols } from "../discover/sdk-symbols.ts";
import { findModel, type ModelCatalogue, storeListing } from "../model-catalogue.ts";
import type { ts } from "../ts-morph.ts";
import { MODEL_TAG_PATTERN } from "./names.ts";
import type { Rule } from "./rules.ts";

/** The field the runtime sets the loaded model on (runtime/runners/runner-instance.ts). */
export const MODEL_FIELD = "model";

/** Whether a type is the sdk's `Model` (or a union holding it: `Model | undefined`). */
function isModelType(type: ts.Type, sdk: SdkSymbols): boolean {
  const ref = sdk.refOfType(type);
  if (ref?.module === "types" && ref.name === "Model") return true;
  return type.isUnion() && type.types.some((t) => isModelType(t, sdk));
}

/** The instance fields of a class typed as the sdk's `Model`. */
export function modelFields(cls: ClassDeclaration, sdk: SdkSymbols): PropertyDeclaration[] {
  return cls.getProperties().filter((p) => !p.isStatic() && isModelType(p.getType().compilerType, sdk));
}

function unsetFields(r: AnalyzedRunner, sdk: SdkSymbols): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const field of modelFields(r.decl, sdk)) {
    const name = field.getName();
    const args =
      r.manifest.model === null
        ? {
            why: "@runner has no 'model' option, so no model is loaded",
            hint: 'Name the model to load: @runner({ model: "<name>:latest" }) (`bentoc models list` shows the tags in the store).',
          }
        : name !== MODEL_FIELD
          ? {
              why: `the runtime sets the loaded model (${r.manifest.model}) on the field named '${MODEL_FIELD}' only`,
              hint: `Rename the field to '${MODEL_FIELD}' (model!: Model).`,
            }
          : undefined;
    if (args) out.push(createDiagnostic("BC1025", { field: name, className: r.manifest.className, ...args }, field.getNameNode()));
  }
  return out;
}

function missingModel(r: AnalyzedRunner, tag: string, models: ModelCatalogue): Diagnostic | undefined {
  if (findModel(models, tag)) return undefined;
  const args = { tag, runner: r.manifest.name, home: models.home, known: storeListing(models, tag) };
  const at = optionNode(r.options, "model", r.decl.getNameNode() ?? r.decl);
  return createDiagnostic(models.missing === "error" ? "BC1026" : "BC2003", args, at);
}

export const runnerModels: Rule = ({ analysis, sdk, models }) => {
  if (!analysis) return [];
  const out: Diagnostic[] = [];
  for (const r of analysis.runners) {
    if (!r.used) continue;
    out.push(...unsetFields(r, sdk));
    const tag = r.manifest.model;
    if (tag === null || !MODEL_TAG_PATTERN.test(tag) || !models) continue;
    const missing = missingModel(r, tag, models);
    if (missing) out.push(missing);
  }
  return out;
};
