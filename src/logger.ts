import type { LogLevel } from './config'

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

// Drizzle puts a failed query's parameters in its error message ("Failed query: ...\nparams:
// a,b"): emails, password hashes, token hashes. The log keeps the query, not the values. A
// value may contain newlines, so everything after "params:" goes, and the stack (which starts
// with the message) gets the same redacted message.
const PARAMS_AND_AFTER = /\nparams:[\s\S]*$/

function serialiseError(value: unknown): unknown {
  if (!(value instanceof Error)) return value
  const code = (value as { code?: unknown }).code
  const message = value.message.replace(PARAMS_AND_AFTER, '\nparams: [redacted]')
  const stack = message === value.message ? value.stack : value.stack?.split(value.message).join(message)
  return {
    name: value.name,
    ...(typeof code === 'string' && { code }),
    message,
    stack,
    cause: serialiseError(value.cause),
  }
}

/** One JSON object per line, so log collectors need no parsing rules. */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = RANK[level]
  const log = (lvl: LogLevel) => (msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return
    const entry: LogFields = { time: new Date().toISOString(), level: lvl, msg, ...fields }
    if (entry.err !== undefined) entry.err = serialiseError(entry.err)
    write(`${JSON.stringify(entry)}\n`)
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}
