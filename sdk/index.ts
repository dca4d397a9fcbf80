/** What service authors import from "bentoc". */

export type { ApiOptions, BatchableOptions, RunnerOptions, ServiceOptions } from "./decorators.ts";
export { api, batchable, DEPENDS, depends, isDependsMarker, runner, service } from "./decorators.ts";
export { BentocError, HttpError, isHttpError } from "./errors.ts";
export type { DType, ImageOptions, IODescriptor, NdArrayOptions } from "./io.ts";
export { io } from "./io.ts";
export type * from "./manifest.ts";
export { DEFAULTS, MANIFEST_SCHEMA_VERSION } from "./manifest.ts";
export type { Context, FileData, Image, Model, NdArray, Resources, RunnerCallOptions, RunnerHandle, Tensor, TypedArray } from "./types.ts";
