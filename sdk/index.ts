/** What service authors import from "bentoc". */
export { service, api, runner, batchable, depends, isDependsMarker, DEPENDS } from "./decorators.ts";
export type { ServiceOptions, ApiOptions, RunnerOptions, BatchableOptions } from "./decorators.ts";
export { io } from "./io.ts";
export type { IODescriptor, DType, NdArrayOptions, ImageOptions } from "./io.ts";
export type { NdArray, Tensor, Image, FileData, Context, Model, Resources, RunnerCallOptions, RunnerHandle, TypedArray } from "./types.ts";
export { BentocError, HttpError, isHttpError } from "./errors.ts";
export type * from "./manifest.ts";
export { MANIFEST_SCHEMA_VERSION, DEFAULTS } from "./manifest.ts";
