/**
 * The V2 infer request's input tensor, checked against what the runner method advertises
 * (`GET /v2/models/{name}`: name `input`, datatype and shape, `-1` a free dimension) before its items
 * join a batch. A tensor that does not fit is a 400 for its own request, naming the field; it never
 * reaches the model, where it would fail the batch or — worse — be read with the wrong stride and give
 * other requests of the batch wrong answers.
 */
import { BadRequest } from "../errors/http-errors.ts";
import { type ItemKind, JSON_CONTENT_TYPE } from "./item-tensors.ts";
import { INPUT_TENSOR } from "./runner-models.ts";
import type { V2Datatype, V2Tensor } from "./v2-types.ts";

export interface AdvertisedTensor {
  datatype: V2Datatype;
  /** `-1`: any size. */
  shape: number[];
}

/** Datatypes a kind's items may travel as besides the advertised one (compact-form fallbacks). */
function accepted(kind: ItemKind, advertised: V2Datatype, graphKnown: boolean): V2Datatype[] {
  switch (kind) {
    case "number":
    case "numbers":
      // Values that are not exactly float32 travel as FP64.
      return ["FP32", "FP64"];
    case "ndarray":
      // A model's graph fixes its datatype; without one, any numeric datatype.
      return graphKnown ? [advertised] : ["FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "BOOL"];
    default:
      return [advertised];
  }
}

function problem(path: string, message: string, what: string): BadRequest {
  return new BadRequest(`input tensor ${what}`, "invalid_input", [{ path, message }]);
}

export function checkInputTensor(tensor: V2Tensor, kind: ItemKind, advertised: AdvertisedTensor, graphKnown: boolean): void {
  if (tensor.name !== INPUT_TENSOR)
    throw problem("/inputs/0/name", `must be "${INPUT_TENSOR}"`, `is named "${tensor.name}"; this model's input is "${INPUT_TENSOR}"`);
  const json = tensor.datatype === "BYTES" && tensor.parameters?.["content_type"] === JSON_CONTENT_TYPE;
  // Items that fit no compact tensor travel as JSON documents, one per item: a 1-D BYTES tensor.
  if (json && kind !== "ndarray") {
    if (tensor.shape.length !== 1) throw problem("/inputs/0/shape", "must be [N] for JSON items", `has shape [${tensor.shape.join(", ")}]`);
    return;
  }
  const allowed = accepted(kind, advertised.datatype, graphKnown);
  if (!allowed.includes(tensor.datatype)) {
    throw problem("/inputs/0/datatype", `must be ${allowed.join(" or ")}`, `has datatype ${tensor.datatype}; this model takes ${allowed.join(" or ")}`);
  }
  const want = advertised.shape;
  const fits = tensor.shape.length === want.length && want.every((d, i) => d < 0 || tensor.shape[i] === d);
  if (!fits && (kind !== "ndarray" || graphKnown)) {
    throw problem(
      "/inputs/0/shape",
      `must be [${want.join(", ")}] (-1: any size)`,
      `has shape [${tensor.shape.join(", ")}]; this model takes [${want.join(", ")}]`,
    );
  }
}
