import * as chrono from 'chrono-node'

/** What a date phrase said: a calendar date, a wall-clock time on one, or an exact instant. */
export interface DatePhrase {
  start: number
  end: number
  /** The calendar date, when the phrase names one (`tomorrow`, `March 3`, `friday`). */
  date?: Temporal.PlainDate
  /** For a time without a date: the day that time comes next. */
  nextDay?: Temporal.PlainDate
  /** The time of day, when the phrase names one (`at 9`, `noon`). */
  time?: Temporal.PlainTime
  /** Set when the phrase fixes the instant itself (`in 3 hours`, `14:00 UTC`): it wins over date and time. */
  instant?: Temporal.Instant
}

// A weekday's bare abbreviation is a word more often than a date: "sun screen", "mon ami".
const BARE_ABBREVIATION = /^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?$/i

// Words before a date that belong to it: "due by friday", "starting tomorrow".
const LEAD_WORDS = '(?:(?:due\\s+)?(?:by|on|at|before|from|starting(?:\\s+(?:on|from))?)|due)'
const LEAD_IN = new RegExp(`(?<![\\p{L}\\p{N}])${LEAD_WORDS}\\s+$`, 'iu')
// Between a time and the date it is on, when chrono reads them apart: "at 9am starting june 1".
const TIME_TO_DATE = new RegExp(`^\\s*(?:${LEAD_WORDS}\\s+)?$`, 'iu')

/** The zone's offset from UTC at `now`, in minutes: chrono's reference for "today" and "tomorrow". */
const offsetMinutes = (now: Temporal.Instant, tz: string) =>
  Math.round(now.toZonedDateTimeISO(tz).offsetNanoseconds / 60_000_000_000)

const known = (c: chrono.ParsedComponents, name: chrono.Component) => c.isCertain(name)
const hasTime = (c: chrono.ParsedComponents) => known(c, 'hour')
const hasDate = (c: chrono.ParsedComponents) => known(c, 'day') || known(c, 'weekday') || known(c, 'month')
const dayOf = (c: chrono.ParsedComponents) =>
  new Temporal.PlainDate(c.get('year') as number, c.get('month') as number, c.get('day') as number)

/**
 * With `forwardDate`, chrono reads an amount of time alone as that long from now ("Buy 2m
 * cable" due in two minutes, "Read 30 min"); without it, only a phrase that says so ("in 5m",
 * "3 days later", "+5m") is a date. The phrase is read once more without `forwardDate`.
 */
const bareAmount = (result: chrono.ParsedResult, reference: chrono.ParsingReference) =>
  result.tags().has('result/relativeDate') &&
  !chrono.en.parse(result.text, reference).some((r) => r.index === 0 && r.text === result.text)

/**
 * The first date or time phrase in `text` (English), read in `tz` at `now`. Ambiguous ones
 * are read forward: `friday` is the next Friday, `9am` the next 9:00, `March 3` the next one;
 * explicit past dates (`yesterday`, `2020-01-01`) stay in the past.
 */
export function findDate(text: string, now: Temporal.Instant, tz: string): DatePhrase | undefined {
  const reference = { instant: new Date(now.epochMilliseconds), timezone: offsetMinutes(now, tz) }
  const results = chrono.en.parse(text, reference, { forwardDate: true }).filter((result) => {
    const c = result.start
    if (BARE_ABBREVIATION.test(result.text.trim()) || bareAmount(result, reference)) return false
    const year = c.get('year') as number
    // Postgres and the API keep years 1 to 9999.
    return (hasTime(c) || hasDate(c)) && year >= 1 && year <= 9999
  })
  const [result, next] = results
  if (!result) return undefined
  const c = result.start
  const start = LEAD_IN.exec(text.slice(0, result.index))?.index ?? result.index
  const phrase: DatePhrase = { start, end: result.index + result.text.length }
  if (known(c, 'timezoneOffset')) {
    phrase.instant = Temporal.Instant.fromEpochMilliseconds(c.date().getTime())
    return phrase
  }
  if (hasTime(c)) phrase.time = new Temporal.PlainTime(c.get('hour') as number, c.get('minute') ?? 0)
  if (hasDate(c)) phrase.date = dayOf(c)
  else if (
    next &&
    hasDate(next.start) &&
    !hasTime(next.start) &&
    TIME_TO_DATE.test(text.slice(phrase.end, next.index))
  ) {
    phrase.date = dayOf(next.start)
    phrase.end = next.index + next.text.length
  }
  // For a time alone, chrono has chosen the day it comes next (today or tomorrow).
  else phrase.nextDay = dayOf(c)
  return phrase
}
