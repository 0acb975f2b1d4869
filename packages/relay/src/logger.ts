/** Values a log line may carry. No byte arrays: the relay never logs bytes it was given. */
export type LogValue = string | number | boolean | null;

/** Severity of a log line. */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * Where the relay reports what it does. Lines carry only what an operator needs to run the relay:
 * never message contents, envelopes, keys, capabilities, tokens or IP addresses — the relay's logs
 * are as untrusted a place as its database, and usually less protected.
 */
export interface RelayLogger {
  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, LogValue>>): void;
}

/** Anything with `write(string)`: `process.stdout`, a file stream, a test buffer. */
export interface LogSink {
  write(chunk: string): unknown;
}

/**
 * A logger writing one JSON object per line, `{"time","level","msg",...fields}`, so log shippers
 * can parse it without a grammar.
 */
export function createJsonLogger(sink: LogSink = process.stdout): RelayLogger {
  return {
    log(level, msg, fields = {}) {
      sink.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
    },
  };
}

/** A logger that drops everything, for embedding the relay where its lines are not wanted. */
export const silentLogger: RelayLogger = { log: () => undefined };
