/**
 * The seam for diagnostics. Lines go to an injected sink (stderr in the binary, an array in
 * tests); fields are structured so `--log-format json` can be machine-read.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type LogFormat = "text" | "json";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  write: (line: string) => void;
  format?: LogFormat;
  level?: LogLevel;
  now?: () => number;
}

/** Builds a logger that renders each record as one line and hands it to `write`. */
export function createLogger(options: LoggerOptions): Logger {
  const minRank = LEVEL_RANK[options.level ?? "info"];
  const now = options.now ?? (() => Date.now());
  const render = options.format === "json" ? renderJson : renderText;
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (LEVEL_RANK[level] < minRank) return;
    options.write(render(new Date(now()).toISOString(), level, message, fields ?? {}) + "\n");
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A logger that drops everything, for tests and quiet tools. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function renderJson(time: string, level: LogLevel, message: string, fields: LogFields): string {
  return JSON.stringify({ time, level, msg: message, ...fields });
}

function renderText(time: string, level: LogLevel, message: string, fields: LogFields): string {
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? " " + extra : ""}`;
}
