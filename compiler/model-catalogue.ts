/**
 * What the compiler may know of the local model store: the tags and the graph inputs and outputs of the
 * models in it. The compiler never reads the store (it imports no runtime code, and a compile must not need
 * one): the caller passes this in — the CLI lists `$BENTOC_HOME` with the model store (`cli/model-catalogue.ts`),
 * whose records are this shape already (`model.json` keeps the ONNX graph's inputs and outputs, read when the
 * model was saved). Without a catalogue the model checks are skipped.
 */

/** One graph input or output; `shape` has a number per fixed dimension, a string per named dynamic one, null if unknown. */
export interface CatalogueTensor {
  readonly name: string;
  /** onnxruntime's spelling: `float32`, `int64`, `string`, … (`unknown` when the graph does not say). */
  readonly dtype: string;
  readonly shape: readonly (number | string | null)[];
}

export interface CatalogueModel {
  /** `name:version`. */
  readonly tag: string;
  readonly name: string;
  readonly version: string;
  readonly inputs: readonly CatalogueTensor[];
  readonly outputs: readonly CatalogueTensor[];
}

export interface ModelCatalogue {
  /** The store's directory, for messages. */
  readonly home: string;
  /** Every model version in the store, newest first within a name. */
  readonly models: readonly CatalogueModel[];
  /**
   * How a runner's tag that is not in the store is reported: a warning at `compile` (BC2003; the model may
   * be saved later), an error at `build` (BC1026; a bento carries its models).
   */
  readonly missing: "warning" | "error";
}

/** The model a tag names: `name` and `name:latest` the newest version, `name:version` that one. */
export function findModel(catalogue: ModelCatalogue, tag: string): CatalogueModel | undefined {
  const [name, version] = tag.split(":");
  if (version === undefined || version === "latest") return catalogue.models.find((m) => m.name === name);
  return catalogue.models.find((m) => m.name === name && m.version === version);
}

/** The store's content for a "not found" message: the versions of that name, else every name, else "empty". */
export function storeListing(catalogue: ModelCatalogue, tag: string): string {
  const name = tag.split(":")[0];
  const same = catalogue.models.filter((m) => m.name === name).map((m) => m.tag);
  if (same.length > 0) return `Versions of ${name} in the store: ${shorten(same)}.`;
  const names = [...new Set(catalogue.models.map((m) => `${m.name}:latest`))];
  if (names.length === 0) return "The store is empty.";
  return `The store holds: ${shorten(names)}.`;
}

function shorten(tags: readonly string[]): string {
  const shown = tags.slice(0, 20).join(", ");
  return tags.length > 20 ? `${shown}, … and ${tags.length - 20} more` : shown;
}
