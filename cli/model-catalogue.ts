/**
 * The compiler's view of the local model store (`compiler/model-catalogue.ts`), read here because the
 * compiler imports no runtime code: the store's records (`model.json`, holding the ONNX graph's inputs and
 * outputs) are listed with the model store and passed in. A store that cannot be read gives no catalogue,
 * so compiling never depends on it.
 */
import type { ModelCatalogue } from "../compiler/model-catalogue.ts";
import { ModelStore } from "../runtime/models/model-store.ts";

export async function readModelCatalogue(home: string, missing: ModelCatalogue["missing"]): Promise<ModelCatalogue | undefined> {
  const store = new ModelStore(home);
  try {
    return { home: store.home, models: await store.list(), missing };
  } catch {
    return undefined;
  }
}
