/**
 * Validation of emitted objects with the models of `kubernetes-models` and
 * `@kubernetes-models/prometheus-operator` (compiled from the real OpenAPI/CRD schemas), made strict:
 * those schemas allow unknown properties, so every key of the object is probed — its value replaced by a
 * value no schema type accepts — and a key whose replacement still validates is one the schema does not
 * know (a typo like `imagePullPolicyy`, or a field of another kind).
 */
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";

interface ModelClass {
  new (data: object): { validate(): void; toJSON(): unknown };
}

const MODELS: Record<string, ModelClass> = {
  "apps/v1 Deployment": Deployment as unknown as ModelClass,
  "autoscaling/v2 HorizontalPodAutoscaler": HorizontalPodAutoscaler as unknown as ModelClass,
  "networking.k8s.io/v1 NetworkPolicy": NetworkPolicy as unknown as ModelClass,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget as unknown as ModelClass,
  "v1 ConfigMap": ConfigMap as unknown as ModelClass,
  "v1 Secret": Secret as unknown as ModelClass,
  "v1 Service": Service as unknown as ModelClass,
  "monitoring.coreos.com/v1 PrometheusRule": PrometheusRule as unknown as ModelClass,
  "monitoring.coreos.com/v1 ServiceMonitor": ServiceMonitor as unknown as ModelClass,
};

type Path = (string | number)[];

function modelOf(obj: Record<string, unknown>): ModelClass {
  const key = `${String(obj["apiVersion"])} ${String(obj["kind"])}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema model for ${key}`);
  return model;
}

/** Schema errors of the object, or `[]` when valid. */
export function schemaErrors(obj: Record<string, unknown>): string[] {
  try {
    new (modelOf(obj))(obj).validate();
    return [];
  } catch (err) {
    return [String((err as Error).message)];
  }
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

function rejects(model: ModelClass, obj: unknown): boolean {
  try {
    new model(obj as object).validate();
    return false;
  } catch {
    return true; // a ValidationError, or the validator choking on the probe: either way it checked the key
  }
}

/** Paths of keys the kind's schema does not define (JSON-pointer-like, e.g. `spec.template.spec.containers.0.foo`). */
export function unknownFields(obj: Record<string, unknown>): string[] {
  const model = modelOf(obj);
  const probe = Symbol("unknown-field-probe");
  const found: string[] = [];
  const walk = (value: unknown, path: Path): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        walk(item, [...path, i]);
      });
      return;
    }
    if (typeof value !== "object" || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const at = [...path, key];
      if (!rejects(model, setAt(obj, at, probe))) {
        found.push(at.join("."));
        continue;
      }
      walk(child, at);
    }
  };
  walk(obj, []);
  return found;
}

function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : typeof v === "object" && v !== null
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(value));
}

/** Everything wrong with one object: schema errors, unknown keys, and a lossy round trip through the model. */
export function strictProblems(obj: Record<string, unknown>): string[] {
  const problems = schemaErrors(obj);
  for (const path of unknownFields(obj)) problems.push(`unknown field ${path}`);
  const roundTrip = canonical(new (modelOf(obj))(obj).toJSON());
  if (roundTrip !== canonical(obj)) problems.push("changes on a round trip through its model");
  return problems;
}
