import { Kind, type SchemaOptions, type TSchema, TypeRegistry } from '@sinclair/typebox'

/** A due value: a calendar date that never moves with time zones, or an exact instant. */
export type Due = { kind: 'date'; date: string } | { kind: 'instant'; at: Date }

const DATE = /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})$/
// RFC 3339 with a required offset (a local time without one would be a guess); seconds optional.
const INSTANT =
  /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})[Tt](?<hour>\d{2}):(?<minute>\d{2})(?::(?<second>\d{2})(?:\.(?<fraction>\d{1,9}))?)?(?:[Zz]|(?<sign>[+-])(?<offsetHour>\d{2}):(?<offsetMinute>\d{2}))$/

/** Milliseconds since the epoch of a UTC wall-clock time, or undefined if no such time exists. */
function utcTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0) {
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms))
  d.setUTCFullYear(year) // Date.UTC reads years below 100 as 19xx
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? d.getTime() : undefined
}

/** Parses `YYYY-MM-DD` or an RFC 3339 instant with an offset; undefined when it is neither. */
export function parseDue(value: string): Due | undefined {
  const date = DATE.exec(value)?.groups
  if (date)
    return utcTime(Number(date.year), Number(date.month), Number(date.day)) === undefined
      ? undefined
      : { kind: 'date', date: value }
  const g = INSTANT.exec(value)?.groups
  if (!g) return undefined
  const ms = Number((g.fraction ?? '0').padEnd(3, '0').slice(0, 3))
  const wall = utcTime(
    Number(g.year),
    Number(g.month),
    Number(g.day),
    Number(g.hour),
    Number(g.minute),
    Number(g.second ?? 0),
    ms,
  )
  const offsetHour = Number(g.offsetHour ?? 0)
  const offsetMinute = Number(g.offsetMinute ?? 0)
  if (wall === undefined || offsetHour > 23 || offsetMinute > 59) return undefined
  const at = new Date(wall - (g.sign === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute) * 60_000)
  // Postgres keeps years 1 to 9999 here, and so does the output format.
  if (at.getUTCFullYear() < 1 || at.getUTCFullYear() > 9999) return undefined
  return { kind: 'instant', at }
}

export const formatDue = (due: Due): string => (due.kind === 'date' ? due.date : due.at.toISOString())

export interface TDue extends TSchema {
  [Kind]: 'Due'
  static: string
  type: 'string'
}

TypeRegistry.Set<TDue>('Due', (_schema, value) => typeof value === 'string' && parseDue(value) !== undefined)

/** A string holding a calendar date or an instant, as `parseDue` reads it. */
export function DueValue(options: SchemaOptions = {}): TDue {
  return {
    description:
      'A calendar date `YYYY-MM-DD` (kept as that date in every time zone) or an RFC 3339 instant with an offset (returned in UTC)',
    errorMessage: 'must be a date (YYYY-MM-DD) or a date-time with an offset (2026-03-01T09:00:00+05:00)',
    examples: ['2026-03-01', '2026-03-01T09:00:00+05:00'],
    ...options,
    [Kind]: 'Due',
    type: 'string',
  } as unknown as TDue
}
