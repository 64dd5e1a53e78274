import ical, { escape as escapeText, ICalAlarmType, ICalCalendarMethod, ICalEventTransparency } from 'ical-generator'
import { durationSeconds } from '../reminders/duration'
import { parseRule, type StoredRecurrence } from '../tasks/recurrence'
import { localText, vtimezone } from './vtimezone'

/** What the feed shows of a task: an open one with a due date. */
export interface FeedTask {
  id: number
  title: string
  description: string | null
  dueDate: string | null
  dueAt: Date | null
  recurrence: StoredRecurrence | null
  tags: string[]
  priority: 'low' | 'medium' | 'high'
  version: number
  createdAt: Date
  updatedAt: Date
  reminders: { at: string | null; before: string | null }[]
}

/** A task due at an instant shows as an event this long: a due time is a moment, not a slot. */
export const TIMED_EVENT_MINUTES = 30
/** How often calendar apps are asked to fetch the feed again (REFRESH-INTERVAL, X-PUBLISHED-TTL). */
export const REFRESH_SECONDS = 60 * 60
/** Years of time zone transitions written past the latest occurrence and the current year. */
const ZONE_YEARS_AHEAD = 10
/**
 * ...but never more years past the current one than this. Most zones change twice a year, and a
 * series can be set in year 9999: one such task had a feed written up to year 10010 (1.5 MB a
 * zone, 190 MB with one in each). Past the last transition a client keeps the last offset.
 */
const ZONE_YEARS_MAX_AHEAD = 100

// RFC 5545 PRIORITY: 1 is the highest, 9 the lowest.
const PRIORITY = { high: 1, medium: 5, low: 9 } as const

// TEXT values may hold no control characters but tab and line breaks (RFC 5545 3.3.11), and
// titles can; they become U+FFFD. Commas, semicolons, backslashes and line breaks are escaped
// by ical-generator.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g
const text = (value: string) => value.replace(CONTROL, '\ufffd')

// iCalendar years have four digits: an event that would end after 9999 ends at its last second.
const LAST_DAY = Temporal.PlainDate.from('9999-12-31')
const LAST_LOCAL = Temporal.PlainDateTime.from('9999-12-31T23:59:59')
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59)

const zoned = (local: Temporal.PlainDateTime, tz: string) => local.toZonedDateTime(tz, { disambiguation: 'compatible' })

/**
 * A wall-clock time in `tz`, written as it is (`DTSTART;TZID=...:20260329T023000`) even when the
 * clock skips it: RFC 5545 3.3.5 has clients read such a time forward by the gap, as the API
 * does, and the series keeps its time on the other days. ical-generator accepts a date object of
 * this shape (its ICalTZDateStub) and asks it for the local fields; a Temporal value would be
 * converted to the instant first, which loses the skipped time.
 */
class WallClock extends Date {
  readonly internal: Date
  constructor(
    readonly local: Temporal.PlainDateTime,
    tz: string,
  ) {
    super(zoned(local, tz).epochMilliseconds)
    this.internal = new Date(this.getTime())
  }
  withTimeZone() {
    const l = this.local
    const fields = {
      // ical-generator pads this year to two digits only (`toString().padStart(2, '0')`): a
      // year before 1000 needs its four digits given here.
      getFullYear: () => String(l.year).padStart(4, '0'),
      getMonth: () => l.month - 1,
      getDate: () => l.day,
      getHours: () => l.hour,
      getMinutes: () => l.minute,
      getSeconds: () => l.second,
    }
    return {
      ...fields,
      getUTCFullYear: fields.getFullYear,
      getUTCMonth: fields.getMonth,
      getUTCDate: fields.getDate,
      getUTCHours: fields.getHours,
      getUTCMinutes: fields.getMinutes,
      getUTCSeconds: fields.getSeconds,
    }
  }
  tzComponents() {
    return this.withTimeZone()
  }
}

/**
 * The task's RRULE from its current occurrence on: COUNT becomes what is left of it (the
 * current occurrence is the first of those), and an UNTIL date of a timed series becomes the
 * last second of that day in `tz`, in UTC (RFC 5545 3.3.10 wants UTC there when DTSTART has a
 * TZID); the API ends such a series after the last occurrence on that date.
 */
export function remainingRule(stored: StoredRecurrence, dateOnly: boolean): string {
  const rule = parseRule(stored.rule, dateOnly)
  return rule.text
    .split(';')
    .map((part) => {
      const [name, value] = part.split('=') as [string, string]
      if (name === 'COUNT') return `COUNT=${Math.max(1, Number(value) - stored.index + 1)}`
      if (name === 'UNTIL' && !dateOnly && rule.until && !rule.until.instant) {
        const lastSecond = rule.until.date.add({ days: 1 }).toZonedDateTime(stored.tz).subtract({ seconds: 1 })
        return `UNTIL=${localText(lastSecond.toInstant().toZonedDateTimeISO('UTC').toPlainDateTime())}Z`
      }
      return part
    })
    .join(';')
}

export interface FeedOptions {
  /** The calendar's name, as calendar apps list it. */
  name: string
  /** The right-hand side of every UID: the host the feed is served from. */
  host: string
  /** For the span of time zone data: the current year. */
  now: Date
}

/**
 * The iCalendar text (RFC 5545) of a user's open tasks with a due date, as VEVENTs (Google
 * Calendar ignores VTODOs in subscriptions): an all-day event on a calendar date, a short event
 * at an instant. A task that repeats by its due date is one recurring event from its current
 * occurrence on, in its series' zone at its wall-clock time; one that repeats after completion
 * is its current occurrence only (when the next one falls depends on when it is done).
 */
export function renderFeed(tasks: FeedTask[], { name, host, now }: FeedOptions): string {
  const zones = new Map<string, { from: number; until: number }>()
  const calendar = ical({
    // ical-generator writes NAME and X-WR-CALNAME as given, unlike the events' text.
    name: escapeText(text(name), false),
    prodId: { company: 'todo-api', product: 'calendar feed', language: 'EN' },
    method: ICalCalendarMethod.PUBLISH,
    ttl: REFRESH_SECONDS,
    timezone: {
      name: null,
      generator: (tz) => {
        const span = zones.get(tz)
        return span ? vtimezone(tz, span.from, span.until) : null
      },
    },
  })
  for (const task of tasks) {
    const event = calendar.createEvent({
      id: `task-${task.id}@${host}`,
      summary: text(task.title),
      description: task.description === null ? null : text(task.description),
      stamp: task.updatedAt,
      created: task.createdAt,
      lastModified: task.updatedAt,
      sequence: task.version,
      categories: task.tags.map((tag) => ({ name: text(tag) })),
      priority: PRIORITY[task.priority],
      // A due date does not make the user busy.
      transparency: ICalEventTransparency.TRANSPARENT,
      start: new Date(0),
    })
    const series = task.recurrence?.from === 'due' ? task.recurrence : null
    // An event in a zone (a timed series) gets its instants written in that zone's time by
    // ical-generator, also an alarm's absolute TRIGGER, which RFC 5545 3.8.6.3 wants in UTC:
    // such an event carries only its offset reminders.
    const inZone = series !== null && task.dueAt !== null && series.tz !== 'UTC'
    // Its reminders as alarms: an offset before each occurrence's start, or an instant.
    for (const reminder of task.reminders) {
      if (reminder.before === null && inZone) continue
      const trigger = reminder.before === null ? new Date(reminder.at as string) : durationSeconds(reminder.before)
      if (trigger !== undefined)
        event.createAlarm({ type: ICalAlarmType.display, trigger, description: text(task.title) })
    }
    if (task.dueDate !== null) {
      const day = Temporal.PlainDate.from(series?.anchor ?? task.dueDate)
      // Without DTEND a day lasts the day (RFC 5545 3.6.1): the last one has no next day to end on.
      event
        .allDay(true)
        .start(day)
        .end(day.equals(LAST_DAY) ? null : day.add({ days: 1 }))
      if (series) event.repeating(`RRULE:${remainingRule(series, true)}`)
      continue
    }
    const at = task.dueAt as Date
    if (!series || series.tz === 'UTC') {
      event.start(at).end(new Date(Math.min(at.getTime() + TIMED_EVENT_MINUTES * 60_000, LAST_INSTANT)))
      if (series) event.repeating(`RRULE:${remainingRule(series, false)}`)
      continue
    }
    const local = Temporal.PlainDateTime.from(series.anchor)
    const end = zoned(local, series.tz).add({ minutes: TIMED_EVENT_MINUTES }).toPlainDateTime()
    const last = Temporal.PlainDateTime.compare(end, LAST_LOCAL) > 0 ? LAST_LOCAL : end
    event
      .timezone(series.tz)
      .start(new WallClock(local, series.tz))
      .end(new WallClock(last, series.tz))
      .repeating(`RRULE:${remainingRule(series, false)}`)
    const span = zones.get(series.tz)
    const thisYear = now.getUTCFullYear()
    const until = Math.min(Math.max(local.year, thisYear) + ZONE_YEARS_AHEAD, thisYear + ZONE_YEARS_MAX_AHEAD) + 1
    zones.set(series.tz, {
      from: Math.min(span?.from ?? local.year, local.year, until - 1),
      until: Math.max(span?.until ?? 0, until),
    })
  }
  // Every line ends in CRLF, the last one too (RFC 5545 3.1); ical-generator leaves it off.
  return `${calendar.toString().replace(/\r\n$/, '')}\r\n`
}
