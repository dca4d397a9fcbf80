/**
 * Counter, gauge and histogram for the hot path, registered in a prom-client `Registry` (which does the
 * text exposition). prom-client's own `labels(...).observe()` validates and hashes the label set on
 * every call (~1 µs); here a bound child is a plain object and an observation is a bucket search plus
 * two additions. Values are exported through the registry's `get()` contract, identical in shape to
 * prom-client's own metrics.
 */
import type { Metric, Registry } from "prom-client";

type Labels = Record<string, string>;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  values: MetricValue[];
  aggregator: "sum";
}

abstract class FastMetric<Child> {
  private readonly children = new Map<string, { labels: Labels; child: Child }>();
  abstract readonly type: MetricSnapshot["type"];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  protected abstract makeChild(): Child;
  protected abstract values(labels: Labels, child: Child): MetricValue[];

  /** The child for these label values (in `labelNames` order); keep it, it stays valid. */
  child(...values: string[]): Child {
    const key = values.join("\u0000");
    let entry = this.children.get(key);
    if (entry === undefined) {
      if (values.length !== this.labelNames.length) {
        throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
      }
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => {
        labels[n] = values[i]!;
      });
      entry = { labels, child: this.makeChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  async get(): Promise<MetricSnapshot> {
    const values: MetricValue[] = [];
    for (const { labels, child } of this.children.values()) values.push(...this.values(labels, child));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

export interface CounterChild {
  value: number;
  inc(by?: number): void;
}

export class FastCounter extends FastMetric<CounterChild> {
  readonly type = "counter" as const;
  protected makeChild(): CounterChild {
    return {
      value: 0,
      inc(by = 1) {
        if (by < 0 || !Number.isFinite(by)) return;
        this.value += by;
      },
    };
  }
  protected values(labels: Labels, c: CounterChild): MetricValue[] {
    return [{ labels, value: c.value }];
  }
}

export interface GaugeChild {
  value: number;
  set(v: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
}

export class FastGauge extends FastMetric<GaugeChild> {
  readonly type = "gauge" as const;
  protected makeChild(): GaugeChild {
    return {
      value: 0,
      set(v) {
        this.value = v;
      },
      inc(by = 1) {
        this.value += by;
      },
      dec(by = 1) {
        this.value -= by;
      },
    };
  }
  protected values(labels: Labels, c: GaugeChild): MetricValue[] {
    return [{ labels, value: c.value }];
  }
}

export interface HistogramChild {
  observe(v: number): void;
}

interface HistogramState extends HistogramChild {
  /** Non-cumulative count per bucket; the last slot is (largest bound, +Inf). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram extends FastMetric<HistogramChild> {
  readonly type = "histogram" as const;
  readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
    const sorted = [...new Set(buckets)].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b) => !Number.isFinite(b))) throw new Error(`${name}: invalid buckets ${buckets.join(",")}`);
    this.bounds = sorted;
  }

  protected makeChild(): HistogramState {
    const bounds = this.bounds;
    const n = bounds.length;
    const state: HistogramState = {
      counts: new Float64Array(n + 1),
      sum: 0,
      count: 0,
      observe(v: number) {
        if (Number.isNaN(v)) return;
        let i = 0;
        while (i < n && v > bounds[i]!) i++;
        state.counts[i]!++;
        state.sum += v;
        state.count++;
      },
    };
    return state;
  }

  protected values(labels: Labels, child: HistogramChild): MetricValue[] {
    const c = child as HistogramState;
    const out: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    let acc = 0;
    this.bounds.forEach((le, i) => {
      acc += c.counts[i]!;
      out.push({ labels: { ...labels, le }, value: acc, metricName: bucket });
    });
    out.push({ labels: { ...labels, le: "+Inf" }, value: c.count, metricName: bucket });
    out.push({ labels, value: c.sum, metricName: `${this.name}_sum` });
    out.push({ labels, value: c.count, metricName: `${this.name}_count` });
    return out;
  }
}
