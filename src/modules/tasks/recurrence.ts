import { RRuleTemporal } from 'rrule-temporal'
import { validationFailed } from '../../http/problem'
import type { Due } from './due'

export const RECURRENCE_FROM = ['due', 'completion'] as const
export type RecurrenceFrom = (typeof RECURRENCE_FROM)[number]

/** What the client sends and sees. */
export interface Recurrence {
  rule: string
  tz: string
  from: RecurrenceFrom
}

/** What the task row keeps (`tasks.recurrence`, jsonb). */
export interface StoredRecurrence extends Recurrence {
  /**
   * The current occurrence as a wall-clock time in `tz` (`2026-03-29T02:30:00`), or a date for a
   * task due on a calendar date. The due instant can differ (a time inside a spring-forward gap
   * moved forward); the next occurrence is counted from this, so the series keeps its time.
   */
  anchor: string
  /** Which occurrence of the series the current one is (1 for the first), for COUNT. */
  index: number
  /** The occurrence after the current one as a due value; null when COUNT or UNTIL ends there. */
  next: string | null
}

const FIELD = 'recurrence.rule'
const invalid = (message: string) =>
  validationFailed(`The request is invalid: ${FIELD} ${message}.`, [{ field: FIELD, message }])

const FREQS = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']
const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']
const SUPPORTED = ['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'BYSETPOS', 'WKST']
export const MAX_RULE_LENGTH = 500

// RFC 5545 gives a sign to day and position numbers only: INTERVAL and BYMONTH are digits.
const intList = (value: string, signed: boolean) =>
  value.split(',').map((v) => ((signed ? /^[+-]?\d{1,3}$/ : /^\d{1,3}$/).test(v) ? Number(v) : Number.NaN))

function checkList(name: string, value: string, ok: (n: number) => boolean, what: string, signed = true) {
  if (!intList(value, signed).every((n) => Number.isInteger(n) && ok(n))) throw invalid(`${name} must be ${what}`)
}

/** An UNTIL value: a date, or a date-time in UTC; undefined when it is neither. */
function parseUntil(value: string): { date: Temporal.PlainDate; instant?: Temporal.Instant } | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(value)
  if (!m) return undefined
  try {
    const date = Temporal.PlainDate.from(`${m[1]}-${m[2]}-${m[3]}`, { overflow: 'reject' })
    if (m[4] === undefined) return { date }
    const instant = Temporal.Instant.from(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`)
    return { date, instant }
  } catch {
    return undefined
  }
}

interface Rule {
  /** The rule as stored: upper case, without a `RRULE:` prefix. */
  text: string
  /** What the library computes with: COUNT and UNTIL are applied here instead. */
  pattern: string
  freq: string
  count?: number
  until?: { date: Temporal.PlainDate; instant?: Temporal.Instant }
}

/**
 * Reads and checks an RRULE (RFC 5545 3.3.10) within the parts this API supports; a 400 naming
 * the first problem otherwise. The library accepts some invalid rules silently (BYMONTHDAY=32
 * read as the 1st, COUNT with UNTIL, BYMONTH=13), so every part is checked here first.
 */
export function parseRule(raw: string, dateOnly: boolean): Rule {
  // Before upper-casing: `toUpperCase` turns some other letters into ASCII (ı into I, ſ into S).
  if (!/^[\x20-\x7e\t\r\n]*$/.test(raw)) throw invalid('must be ASCII text such as FREQ=WEEKLY;BYDAY=MO')
  const text = raw
    .trim()
    .replace(/^RRULE:/i, '')
    .toUpperCase()
  if (text === '') throw invalid('must not be empty')
  if (raw.length > MAX_RULE_LENGTH) throw invalid(`must be at most ${MAX_RULE_LENGTH} characters`)
  const parts = new Map<string, string>()
  for (const part of text.split(';')) {
    const [name, value, extra] = part.split('=')
    if (!name || value === undefined || value === '' || extra !== undefined)
      throw invalid(`must be NAME=VALUE parts separated by ";" (got "${part}")`)
    if (!SUPPORTED.includes(name)) throw invalid(`has an unsupported part ${name} (supported: ${SUPPORTED.join(', ')})`)
    if (parts.has(name)) throw invalid(`has ${name} more than once`)
    parts.set(name, value)
  }
  const freq = parts.get('FREQ')
  if (freq === undefined) throw invalid('must have FREQ')
  if (!FREQS.includes(freq)) throw invalid(`FREQ must be one of ${FREQS.join(', ')}`)
  const interval = parts.get('INTERVAL')
  if (interval !== undefined)
    checkList('INTERVAL', interval, (n) => n >= 1 && n <= 999, 'a whole number from 1 to 999', false)
  if (interval?.includes(',')) throw invalid('INTERVAL must be one number')
  const countValue = parts.get('COUNT')
  if (countValue !== undefined && !/^[1-9]\d{0,3}$/.test(countValue))
    throw invalid('COUNT must be a whole number from 1 to 9999')
  const untilValue = parts.get('UNTIL')
  if (countValue !== undefined && untilValue !== undefined) throw invalid('must not have both COUNT and UNTIL')
  const until = untilValue === undefined ? undefined : parseUntil(untilValue)
  if (untilValue !== undefined && !until)
    throw invalid('UNTIL must be a date (20261231) or a date-time in UTC (20261231T235959Z)')
  if (until?.instant && dateOnly) throw invalid('UNTIL must be a date (20261231) for a task due on a calendar date')
  const byDay = parts.get('BYDAY')
  if (byDay !== undefined) {
    for (const day of byDay.split(',')) {
      const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(day)
      if (!m)
        throw invalid(`BYDAY must be weekdays (MO..SU), each with an optional ordinal such as -1FR (got "${day}")`)
      if (m[1] !== undefined) {
        const ordinal = Number(m[1])
        if (freq !== 'MONTHLY' && freq !== 'YEARLY')
          throw invalid('BYDAY can only have ordinals (such as -1FR) with FREQ=MONTHLY or FREQ=YEARLY')
        const limit = freq === 'MONTHLY' && !parts.has('BYMONTH') ? 5 : 53
        if (ordinal === 0 || Math.abs(ordinal) > limit)
          throw invalid(`BYDAY ordinals must be from 1 to ${limit} or -${limit} to -1`)
      }
    }
  }
  const byMonthDay = parts.get('BYMONTHDAY')
  if (byMonthDay !== undefined) {
    if (freq === 'WEEKLY') throw invalid('must not have BYMONTHDAY with FREQ=WEEKLY')
    checkList('BYMONTHDAY', byMonthDay, (n) => n !== 0 && Math.abs(n) <= 31, 'days from 1 to 31 or -31 to -1')
  }
  const byMonth = parts.get('BYMONTH')
  if (byMonth !== undefined) checkList('BYMONTH', byMonth, (n) => n >= 1 && n <= 12, 'months from 1 to 12', false)
  const bySetPos = parts.get('BYSETPOS')
  if (bySetPos !== undefined) {
    checkList('BYSETPOS', bySetPos, (n) => n !== 0 && Math.abs(n) <= 366, 'positions from 1 to 366 or -366 to -1')
    if (byDay === undefined && byMonthDay === undefined && byMonth === undefined)
      throw invalid('BYSETPOS needs another BY part (BYDAY, BYMONTHDAY or BYMONTH)')
  }
  const wkst = parts.get('WKST')
  if (wkst !== undefined && !WEEKDAYS.includes(wkst)) throw invalid('WKST must be a weekday (MO..SU)')
  const pattern = [...parts]
    .filter(([name]) => name !== 'COUNT' && name !== 'UNTIL')
    .map(([name, value]) => `${name}=${value}`)
    .join(';')
  return {
    text: [...parts].map(([name, value]) => `${name}=${value}`).join(';'),
    pattern,
    freq,
    count: countValue === undefined ? undefined : Number(countValue),
    until,
  }
}

// A wall-clock time in UTC stands for the same wall-clock time in `tz`: the library then counts
// in a zone without clock changes. It drops an occurrence whose time falls in a spring-forward
// gap (rrule-temporal 2.2.8 omits it), where RFC 5545 3.3.10 says to read it as an explicit
// DATE-TIME, which 3.3.5 moves forward by the gap; `zoned` does that with `compatible`.
const floating = (local: Temporal.PlainDateTime) => local.toZonedDateTime('UTC')
const zoned = (local: Temporal.PlainDateTime, tz: string) => local.toZonedDateTime(tz, { disambiguation: 'compatible' })

// How many periods (of INTERVAL each) a search looks ahead: about a century. A date with a
// weekday (29 February on a Monday) comes back within 40 years, so a rule that finds nothing in
// a century never occurs; the cost grows with the days scanned, so it is the same for each FREQ.
const SEARCH_PERIODS: Record<string, number> = { DAILY: 36_525, WEEKLY: 5_218, MONTHLY: 1_200, YEARLY: 100 }

/** The first occurrence after `after` in the series of `rule` that starts at `start`. */
function occurrenceAfter(
  rule: Rule,
  start: Temporal.PlainDateTime,
  after: Temporal.PlainDateTime,
): Temporal.PlainDateTime | undefined {
  let found: Temporal.ZonedDateTime | null
  try {
    const series = new RRuleTemporal({
      rruleString: rule.pattern,
      dtstart: floating(start),
      maxIterations: SEARCH_PERIODS[rule.freq],
    })
    found = series.next(floating(after)) as Temporal.ZonedDateTime | null
  } catch {
    // A rule that matches no day in a century of periods (BYMONTH=2;BYMONTHDAY=30).
    return undefined
  }
  return found ? found.toPlainDateTime() : undefined
}

/**
 * The first occurrence of `rule` at or after `start` (a wall-clock time; a date's midnight for
 * a series of calendar dates): where a series described in words begins. A 400 when the rule
 * is invalid; undefined when nothing matches for thousands of periods.
 */
export function firstOccurrence(
  text: string,
  start: Temporal.PlainDateTime,
  dateOnly: boolean,
): Temporal.PlainDateTime | undefined {
  const rule = parseRule(text, dateOnly)
  try {
    const series = new RRuleTemporal({ rruleString: rule.pattern, dtstart: floating(start), maxIterations: 2_000 })
    const found = series.next(floating(start), true) as Temporal.ZonedDateTime | null
    return found ? found.toPlainDateTime() : undefined
  } catch {
    return undefined
  }
}

const localOf = (due: Due, tz: string): Temporal.PlainDateTime =>
  due.kind === 'date'
    ? Temporal.PlainDate.from(due.date).toPlainDateTime()
    : Temporal.Instant.fromEpochMilliseconds(due.at.getTime()).toZonedDateTimeISO(tz).toPlainDateTime()

const anchorText = (local: Temporal.PlainDateTime, dateOnly: boolean) =>
  dateOnly ? local.toPlainDate().toString() : local.toString({ smallestUnit: 'second' })

const dueAt = (local: Temporal.PlainDateTime, tz: string, dateOnly: boolean): Due =>
  dateOnly
    ? { kind: 'date', date: local.toPlainDate().toString() }
    : { kind: 'instant', at: new Date(zoned(local, tz).epochMilliseconds) }

const dueText = (due: Due) => (due.kind === 'date' ? due.date : due.at.toISOString())

// The last due value the task columns (and the output format) keep: years 1 to 9999.
const LAST_DATE = Temporal.PlainDate.from('9999-12-31')
const LAST_INSTANT = Temporal.Instant.from('9999-12-31T23:59:59.999Z')

/**
 * Whether an occurrence is still within COUNT (by its position) and UNTIL, and within year 9999
 * (the end of the calendar the task keeps acts as an UNTIL of every rule).
 */
function within(rule: Rule, local: Temporal.PlainDateTime, index: number, tz: string, dateOnly: boolean): boolean {
  if (rule.count !== undefined && index > rule.count) return false
  if (
    dateOnly
      ? Temporal.PlainDate.compare(local.toPlainDate(), LAST_DATE) > 0
      : Temporal.Instant.compare(zoned(local, tz).toInstant(), LAST_INSTANT) > 0
  )
    return false
  const until = rule.until
  if (!until) return true
  if (until.instant === undefined || dateOnly) return Temporal.PlainDate.compare(local.toPlainDate(), until.date) <= 0
  return Temporal.Instant.compare(zoned(local, tz).toInstant(), until.instant) <= 0
}

/** The occurrence after `local` (position `index`), within COUNT and UNTIL. */
function following(rule: Rule, local: Temporal.PlainDateTime, index: number, tz: string, dateOnly: boolean) {
  const next = occurrenceAfter(rule, local, local)
  return next && within(rule, next, index + 1, tz, dateOnly) ? next : undefined
}

/**
 * A new series (a rule set or changed, or the due date moved): the current due is occurrence
 * number `index` (1 when the rule is new). `local` is the occurrence's wall-clock time when the
 * due instant is not it: a time in a spring-forward gap, moved forward. A 400 when the rule is
 * invalid.
 */
export function startSeries(
  recurrence: Recurrence,
  due: Due,
  index = 1,
  local = localOf(due, recurrence.tz),
): StoredRecurrence {
  const dateOnly = due.kind === 'date'
  const rule = parseRule(recurrence.rule, dateOnly)
  const after = occurrenceAfter(rule, local, local)
  if (!after) throw invalid('has no occurrence after the due date')
  const next = within(rule, after, index + 1, recurrence.tz, dateOnly) ? after : undefined
  return {
    rule: rule.text,
    // Zone names are read in any case: keep the IANA spelling (`Europe/Berlin`), as calendars expect.
    tz: new Temporal.ZonedDateTime(0n, recurrence.tz).timeZoneId,
    from: recurrence.from,
    anchor: anchorText(local, dateOnly),
    index,
    next: next ? dueText(dueAt(next, recurrence.tz, dateOnly)) : null,
  }
}

export interface Advanced {
  due: Due
  recurrence: StoredRecurrence
}

/**
 * Where a recurring task goes when completed at `completedAt`: its next due date and series
 * position, or undefined when COUNT or UNTIL is used up (then it is completed for good).
 * `from: due` takes the occurrence after the current one; `from: completion` restarts the
 * series on the day of completion (in `tz`, at the series' time of day) and takes the
 * occurrence after that.
 */
export function advance(stored: StoredRecurrence, completedAt: Date): Advanced | undefined {
  const dateOnly = !stored.anchor.includes('T')
  const rule = parseRule(stored.rule, dateOnly)
  const current = Temporal.PlainDateTime.from(stored.anchor)
  let from = current
  if (stored.from === 'completion') {
    const day = Temporal.Instant.fromEpochMilliseconds(completedAt.getTime()).toZonedDateTimeISO(stored.tz)
    from = day.toPlainDate().toPlainDateTime(current.toPlainTime())
  }
  const next =
    stored.from === 'completion' ? occurrenceAfter(rule, from, from) : occurrenceAfter(rule, current, current)
  const index = stored.index + 1
  if (!next || !within(rule, next, index, stored.tz, dateOnly)) return undefined
  const due = dueAt(next, stored.tz, dateOnly)
  return { due, recurrence: startSeriesAt(rule, stored, next, index, dateOnly) }
}

function startSeriesAt(
  rule: Rule,
  stored: StoredRecurrence,
  local: Temporal.PlainDateTime,
  index: number,
  dateOnly: boolean,
): StoredRecurrence {
  const next = following(rule, local, index, stored.tz, dateOnly)
  return {
    ...stored,
    anchor: anchorText(local, dateOnly),
    index,
    next: next ? dueText(dueAt(next, stored.tz, dateOnly)) : null,
  }
}

/** The public part. */
export const publicRecurrence = (stored: StoredRecurrence | null): Recurrence | null =>
  stored === null ? null : { rule: stored.rule, tz: stored.tz, from: stored.from }
