import { Kind, type SchemaOptions, type TSchema, TypeRegistry } from '@sinclair/typebox'

// IANA names only (`Europe/Berlin`, `UTC`): Intl also takes offsets such as `+05:00`, which
// Postgres would read as POSIX, with the sign the other way round.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/
const known = new Map<string, boolean>()

export function isTimeZone(value: string): boolean {
  if (value.length > 64 || !IANA_NAME.test(value)) return false
  let ok = known.get(value)
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value })
      ok = true
    } catch {
      ok = false
    }
    if (known.size < 1000) known.set(value, ok)
  }
  return ok
}

export interface TTimeZone extends TSchema {
  [Kind]: 'TimeZone'
  static: string
  type: 'string'
}

TypeRegistry.Set<TTimeZone>('TimeZone', (_schema, value) => typeof value === 'string' && isTimeZone(value))

export function TimeZone(options: SchemaOptions = {}): TTimeZone {
  return {
    default: 'UTC',
    description: 'An IANA time zone that decides which calendar day is "today"',
    errorMessage: 'must be an IANA time zone such as Europe/Berlin',
    examples: ['Europe/Berlin'],
    ...options,
    [Kind]: 'TimeZone',
    type: 'string',
  } as unknown as TTimeZone
}
