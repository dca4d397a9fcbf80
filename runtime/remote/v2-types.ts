/**
 * Open Inference Protocol V2 (KServe / Triton REST) values, after decoding. A tensor's `data` is held in
 * its binary form whatever the wire form was: a typed array for numbers and BOOL (0/1 bytes), and one
 * `Uint8Array` per element for BYTES. JSON-form requests are converted to this on arrival.
 */
export const V2_DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP32", "FP64", "BYTES"] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

export type V2Parameters = Record<string, string | number | boolean | number[] | string[]>;

export type V2TensorData =
  | Uint8Array // BOOL, UINT8
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[]; // BYTES: one entry per element

export interface V2Tensor {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  parameters?: V2Parameters;
  data: V2TensorData;
}

/** A requested output (`outputs` of an inference request). */
export interface V2RequestedOutput {
  name: string;
  parameters?: V2Parameters;
}

export interface V2InferRequest {
  id?: string;
  parameters?: V2Parameters;
  inputs: V2Tensor[];
  outputs?: V2RequestedOutput[];
}

export interface V2InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: V2Parameters;
  outputs: V2Tensor[];
}

/** Tensor metadata in `GET /v2/models/{name}`: -1 marks a variable dimension. */
export interface V2TensorMetadata {
  name: string;
  datatype: V2Datatype;
  shape: number[];
}

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
  parameters?: Record<string, unknown>;
}

/** The HTTP header giving the JSON part's length when binary tensor data follows it. */
export const INFERENCE_HEADER = "inference-header-content-length";

/** Header a bentoc API server adds to infer requests: the ms it will still wait, so the runner can drop what cannot finish. */
export const TIMEOUT_HEADER = "bentoc-timeout-ms";
