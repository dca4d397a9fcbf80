/**
 * Typed access to statically read options: each getter returns the value when it has the expected JSON
 * type, and reports BC1016 at the option's node when it does not (the checker usually catches these too,
 * but `--no-typecheck` must not let a wrong value through).
 */
import type { Node } from "ts-morph";
import type { DType, IODescriptor } from "../../sdk/io.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { DTYPES } from "./io-schema.ts";
import type { ReadOptions, StaticObject, StaticValue } from "./options.ts";

export class OptionValues {
  constructor(
    readonly read: ReadOptions,
    private readonly fallback: Node,
    private readonly diagnostics: Diagnostic[],
  ) {}

  get(path: string): StaticValue | undefined {
    let v: StaticValue | undefined = this.read.value;
    for (const key of path.split(".")) {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
      v = v[key];
    }
    return v;
  }

  node(path: string): Node {
    return this.read.nodes.get(path) ?? this.fallback;
  }

  private bad(path: string, rule: string): undefined {
    this.diagnostics.push(createDiagnostic("BC1016", { option: path, rule }, this.node(path)));
    return undefined;
  }

  string(path: string): string | undefined {
    const v = this.get(path);
    return v === undefined || typeof v === "string" ? v : this.bad(path, "must be a string");
  }

  number(path: string): number | undefined {
    const v = this.get(path);
    return v === undefined || (typeof v === "number" && Number.isFinite(v)) ? v : this.bad(path, "must be a finite number");
  }

  boolean(path: string): boolean | undefined {
    const v = this.get(path);
    return v === undefined || typeof v === "boolean" ? v : this.bad(path, "must be true or false");
  }

  oneOf<T extends string>(path: string, values: readonly T[]): T | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    return typeof v === "string" && (values as readonly string[]).includes(v)
      ? (v as T)
      : this.bad(path, `must be one of ${values.map((x) => `"${x}"`).join(", ")}`);
  }

  stringArray(path: string): string[] | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    return Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : this.bad(path, "must be an array of strings");
  }

  stringRecord(path: string): Record<string, string> | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    const ok = v !== null && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
    return ok ? (v as Record<string, string>) : this.bad(path, "must be an object of strings");
  }

  resources(path: string): { cpu?: string; memory?: string; gpu?: number } {
    const out: { cpu?: string; memory?: string; gpu?: number } = {};
    const cpu = this.get(`${path}.cpu`);
    if (typeof cpu === "number") out.cpu = String(cpu);
    else {
      const s = this.string(`${path}.cpu`);
      if (s !== undefined) out.cpu = s;
    }
    const memory = this.string(`${path}.memory`);
    if (memory !== undefined) out.memory = memory;
    const gpu = this.number(`${path}.gpu`);
    if (gpu !== undefined) out.gpu = gpu;
    return out;
  }

  /** `{ minReplicas?, maxReplicas? }` with the defaults filled in (their ranges are the validate stage's, BC1023). */
  replicaRange(path: string, defaults: { minReplicas: number; maxReplicas: number }): { minReplicas: number; maxReplicas: number } {
    const v = this.get(path);
    if (v !== undefined && (v === null || typeof v !== "object" || Array.isArray(v))) {
      this.bad(path, "must be an object { minReplicas, maxReplicas }");
      return { ...defaults };
    }
    return {
      minReplicas: this.number(`${path}.minReplicas`) ?? defaults.minReplicas,
      maxReplicas: this.number(`${path}.maxReplicas`) ?? defaults.maxReplicas,
    };
  }

  descriptor(path: string): IODescriptor | undefined {
    const v = this.get(path);
    if (v === undefined) return undefined;
    return this.toDescriptor(v, path);
  }

  private toDescriptor(v: StaticValue, path: string): IODescriptor | undefined {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return this.bad(path, "must be an IO descriptor such as io.text()");
    const o = v as StaticObject;
    switch (o["kind"]) {
      case "json":
        return { kind: "json" };
      case "text":
        return { kind: "text" };
      case "ndarray": {
        const d: { kind: "ndarray"; dtype?: DType; shape?: (number | null)[] } = { kind: "ndarray" };
        const dtype = this.oneOf(`${path}.dtype`, DTYPES);
        if (dtype) d.dtype = dtype;
        const shape = o["shape"];
        if (shape !== undefined) {
          if (Array.isArray(shape) && shape.every((x) => x === null || (typeof x === "number" && Number.isInteger(x) && x >= -1))) {
            d.shape = shape.map((x) => (x === -1 ? null : (x as number | null)));
          } else this.bad(`${path}.shape`, "must be an array of non-negative integers, null or -1 (a free dimension)");
        }
        return d;
      }
      case "image": {
        const d: { kind: "image"; formats?: ("png" | "jpeg")[]; maxPixels?: number } = { kind: "image" };
        const formats = o["formats"];
        if (formats !== undefined) {
          if (Array.isArray(formats) && formats.every((f) => f === "png" || f === "jpeg")) d.formats = formats as ("png" | "jpeg")[];
          else return this.bad(`${path}.formats`, 'must be an array of "png" and "jpeg"');
        }
        const maxPixels = o["maxPixels"];
        if (maxPixels !== undefined) {
          if (typeof maxPixels === "number" && Number.isInteger(maxPixels) && maxPixels > 0) d.maxPixels = maxPixels;
          else return this.bad(`${path}.maxPixels`, "must be a positive integer");
        }
        return d;
      }
      case "file": {
        const contentType = this.string(`${path}.contentType`);
        return contentType === undefined ? { kind: "file" } : { kind: "file", contentType };
      }
      case "multipart": {
        const parts = o["parts"];
        if (parts === null || typeof parts !== "object" || Array.isArray(parts)) return this.bad(`${path}.parts`, "must be an object of IO descriptors");
        const out: Record<string, IODescriptor> = {};
        for (const [name, part] of Object.entries(parts)) {
          const d = this.toDescriptor(part, `${path}.parts.${name}`);
          if (d) out[name] = d;
        }
        return { kind: "multipart", parts: out };
      }
      default:
        return this.bad(path, "must be an IO descriptor such as io.text()");
    }
  }
}
