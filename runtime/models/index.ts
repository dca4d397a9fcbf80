/**
 * The model store API (`import { models } from "bentoc/models"`): save, list, get, delete, export and
 * import models in `$BENTOC_HOME` (default `~/.bentoc`), and load one as an onnxruntime-node model.
 */

import type { StoredModel } from "./model-record.ts";
import { type ListFilter, ModelStore, type SaveOptions, type SaveSource } from "./model-store.ts";

export { sha256File } from "./file-hash.ts";
export type { ModelFileEntry, ModelRecord, ModelSignature, StoredModel, TensorDType, TensorSpec } from "./model-record.ts";
export { defaultHome, type ListFilter, ModelStore, type SaveEntry, type SaveOptions, type SaveSource } from "./model-store.ts";
export { ModelStoreError, type ModelStoreErrorCode } from "./model-store-error.ts";
export { type ParsedTag, parseTag } from "./model-tag.ts";
export { type LoadOnnxModelOptions, loadOnnxModel, type OnnxModel } from "./onnx-model.ts";

/** The default store, resolved from `$BENTOC_HOME` at each call. */
export const models = {
  save: (source: SaveSource, options: SaveOptions): Promise<StoredModel> => new ModelStore().save(source, options),
  list: (filter?: ListFilter): Promise<StoredModel[]> => new ModelStore().list(filter),
  get: (tag: string): Promise<StoredModel> => new ModelStore().get(tag),
  delete: (tag: string): Promise<StoredModel> => new ModelStore().delete(tag),
  exportModel: (tag: string, file: string): Promise<StoredModel> => new ModelStore().exportModel(tag, file),
  importModel: (file: string): Promise<StoredModel> => new ModelStore().importModel(file),
} as const;
