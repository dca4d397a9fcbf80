/**
 * A tiny JSON-lines logger with levels. Lines are buffered and written once per event-loop turn, so a
 * busy server does one write per turn instead of one per request. `flush()` writes what is pending.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /**
   * Emits `json`, an already serialised JSON object, as one line at `lvl` (hot paths such as the access
   * log build their line by hand; this logger's `child` fields are not added).
   */
  line(lvl: LogLevel, json: string): void;
  flush(): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; default process.stdout. */
  write?: (text: string) => void;
  fields?: LogFields;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    try {
      write(text);
    } catch {
      // a logger must never throw into the server
    }
  };
  const emit = (lvl: LogLevel, base: LogFields | undefined, msg: string, fields: LogFields | undefined): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, replacer);
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, note: "fields not serialisable" });
    }
    pending.push(`${line}\n`);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const line = (lvl: LogLevel, json: string): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    pending.push(`${json}\n`);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const make = (base: LogFields | undefined): Logger => ({
    level,
    debug: (m, f) => emit("debug", base, m, f),
    info: (m, f) => emit("info", base, m, f),
    warn: (m, f) => emit("warn", base, m, f),
    error: (m, f) => emit("error", base, m, f),
    enabled: (l) => ORDER[l] >= ORDER[level],
    child: (fields) => make({ ...base, ...fields }),
    line,
    flush,
  });
  return make(options.fields);
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
