/**
 * Whether `bentoc init` can write a runner for a model, and the facts that runner needs. The scaffolded
 * runner handles the common shape of a tabular model: one float32 input [batch, features] and one float32
 * output [batch, values], batched along dimension 0. Anything else is refused with what was found and
 * what to do instead.
 */

import type { TensorSpec } from "../models/model-record.ts";
import type { OnnxIo } from "../models/onnx-io.ts";

export interface RunnerPlan {
  inputName: string;
  outputName: string;
  /** Numbers per row (the input's second dimension). */
  features: number;
  /** Values per row of the output (its second dimension), or null when the model leaves it dynamic. */
  outputs: number | null;
}

export class RunnerPlanError extends Error {
  override name = "RunnerPlanError";
}

function shown(t: TensorSpec): string {
  return `"${t.name}" ${t.dtype} [${t.shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

const isDynamic = (d: number | string | null | undefined): boolean => d === null || typeof d === "string";

export function planRunner(io: OnnxIo, file: string): RunnerPlan {
  const refuse = (problem: string): never => {
    throw new RunnerPlanError(
      `${file}: ${problem}. bentoc init writes a runner for a model with one float32 input [batch, features] and one float32 output [batch, values]; ` +
        `save this model with \`bentoc models save ${file} --name NAME --signature run:batchable,batchDim=0\` and write its runner by hand (docs/reference.md, @runner and Model)`,
    );
  };
  if (io.inputs.length !== 1) refuse(`it has ${io.inputs.length} inputs (${io.inputs.map(shown).join(", ") || "none"})`);
  if (io.outputs.length !== 1) refuse(`it has ${io.outputs.length} outputs (${io.outputs.map(shown).join(", ") || "none"})`);
  const input = io.inputs[0]!;
  const output = io.outputs[0]!;
  if (input.dtype !== "float32") refuse(`its input ${shown(input)} is not float32`);
  if (output.dtype !== "float32") refuse(`its output ${shown(output)} is not float32`);
  if (input.shape.length !== 2) refuse(`its input ${shown(input)} is not two-dimensional`);
  if (output.shape.length !== 2) refuse(`its output ${shown(output)} is not two-dimensional`);
  if (!isDynamic(input.shape[0]))
    refuse(`its input ${shown(input)} has a fixed batch dimension; export it with a dynamic first dimension so calls can be batched`);
  const features = input.shape[1];
  if (typeof features !== "number") refuse(`its input ${shown(input)} does not fix the number of features`);
  const outputs = output.shape[1];
  return { inputName: input.name, outputName: output.name, features: features as number, outputs: typeof outputs === "number" ? outputs : null };
}
