/**
 * Structured logs: one JSON object per line, `{ time, level, event, ...fields }`. Secrets never reach the
 * sink: fields whose name says secret/token/key/authorization are replaced, and every string is scrubbed of
 * the configured secret values, PEM blocks, GitHub tokens and JWTs.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  write: (line: string) => void;
  /** Values that must never be printed (webhook secret, private key, …). */
  secrets?: readonly string[];
  level?: LogLevel;
}

export const REDACTED = "[redacted]";
const SECRET_NAME = /secret|token|password|passwd|private.?key|authorization|signature|jwt|credential/i;
const SECRET_TEXT = [
  /-----BEGIN [A-Z ]+-----[\s\S]*?(?:-----END [A-Z ]+-----|$)/g,
  /\bgh[pousr]_[A-Za-z0-9_]{16,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g,
  /\b(?:token|bearer)\s+[A-Za-z0-9_.-]{16,}/gi,
];

function scrubber(secrets: readonly string[]): (text: string) => string {
  // Secrets are also matched in the escaped form a JSON encoder or an env file may give them.
  const values = secrets
    .filter((s) => s.length >= 4)
    .flatMap((s) => [s, s.replaceAll("\n", "\\n"), JSON.stringify(s).slice(1, -1)])
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const v of values) out = out.replaceAll(v, REDACTED);
    for (const re of SECRET_TEXT) out = out.replace(re, REDACTED);
    return out;
  };
}

function sanitize(value: unknown, scrub: (s: string) => string, depth: number): unknown {
  if (typeof value === "string") return scrub(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "bigint" || typeof value === "function" || typeof value === "symbol"
      ? String(value)
      : value;
  }
  if (depth > 6) return "[…]";
  if (value instanceof Error) {
    const status = (value as { status?: unknown }).status;
    return {
      name: value.name,
      message: scrub(value.message),
      ...(typeof status === "number" ? { status } : {}),
    };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => sanitize(v, scrub, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_NAME.test(k) ? REDACTED : sanitize(v, scrub, depth + 1);
  }
  return out;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const scrub = scrubber(options.secrets ?? []);
  const min = LEVELS[options.level ?? "info"];
  const emit = (level: LogLevel, event: string, fields: LogFields = {}): void => {
    if (LEVELS[level] < min) return;
    const record = sanitize({ ...base, ...fields }, scrub, 0) as LogFields;
    const line: LogFields = { time: new Date().toISOString(), level, event };
    for (const [k, v] of Object.entries(record)) if (!(k in line)) line[k] = v;
    options.write(JSON.stringify(line));
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}
