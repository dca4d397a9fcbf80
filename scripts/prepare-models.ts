/**
 * Prepares the sample models in the model store ($BENTOC_HOME, default ~/.bentoc). Idempotent and fast
 * when everything is present.
 *
 *   tsx scripts/prepare-models.ts [--variant tiny|full] [--only support-tickets,tabular,ocr,streaming-text] [--force]
 *                                 [--encoder TAG] [--home DIR]
 *
 * `--encoder TAG` fits the support-tickets classifier on that encoder from the store (e.g. the real
 * all-MiniLM-L6-v2, saved with `bentoc models save`) instead of generating the synthetic one.
 */
import { parseArgs } from "node:util";
import { prepareModels, SAMPLE_MODELS, type SampleModel } from "./models/prepare.ts";

const { values } = parseArgs({
  options: {
    variant: { type: "string", default: "full" },
    only: { type: "string" },
    force: { type: "boolean", default: false },
    home: { type: "string" },
    encoder: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(
    "usage: tsx scripts/prepare-models.ts [--variant tiny|full] [--only support-tickets,tabular,ocr,streaming-text] [--force] [--encoder TAG] [--home DIR]",
  );
  process.exit(0);
}

try {
  if (values.variant !== "full" && values.variant !== "tiny") throw new Error(`--variant must be tiny or full, not ${values.variant}`);
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of only ?? []) {
    if (!SAMPLE_MODELS.includes(o as SampleModel)) throw new Error(`--only: unknown model ${o} (choose from ${SAMPLE_MODELS.join(", ")})`);
  }
  await prepareModels({
    variant: values.variant,
    force: values.force,
    ...(only ? { only: only as SampleModel[] } : {}),
    ...(values.home ? { home: values.home } : {}),
    ...(values.encoder ? { encoder: values.encoder } : {}),
  });
} catch (err) {
  console.error(`prepare-models: ${(err as Error).message}`);
  process.exit(1);
}
