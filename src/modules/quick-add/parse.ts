import { validationFailed } from '../../http/problem'
import { trimText } from '../../schema/text'
import type { Due } from '../tasks/due'
import { MAX_TAGS, type Priority } from '../tasks/model'
import { firstOccurrence } from '../tasks/recurrence'
import { normaliseTags, tagKey } from '../tasks/tags'
import { type DatePhrase, findDate } from './dates'
import { findRecurrence } from './recurrence-phrases'
import { findTokens, type NamedList } from './tokens'

export type SpanField = 'due' | 'recurrence' | 'tag' | 'priority' | 'list'

/** Which part of the text became which field; offsets in UTF-16 code units, end exclusive. */
export interface Span {
  field: SpanField
  start: number
  end: number
  text: string
  value: string
}

export interface QuickAddInput {
  text: string
  tz: string
  now: Temporal.Instant
  lists: readonly NamedList[]
}

export interface Parsed {
  title: string
  tags: string[]
  priority?: Priority
  list?: NamedList
  due?: Due
  /** `start`: the first occurrence's wall-clock time, which the due instant is not in a spring-forward gap. */
  recurrence?: { rule: string; tz: string; start?: Temporal.PlainDateTime }
  spans: Span[]
}

export const MAX_TITLE = 255
const MAX_TAG = 50

const invalid = (message: string) =>
  validationFailed(`The request is invalid: text ${message}.`, [{ field: 'text', message }])

type Range = { start: number; end: number }

/** `text` with the ranges blanked out (same length, so offsets stay valid). */
const blank = (text: string, ranges: readonly Range[]) => {
  let out = text
  for (const r of ranges) out = out.slice(0, r.start) + ' '.repeat(r.end - r.start) + out.slice(r.end)
  return out
}

const SPACE = /\p{White_Space}/u

/** `range` less the `taken` ranges inside it, each piece without its edge spaces. */
function pieces(text: string, range: Range, taken: readonly Range[]): Range[] {
  const inside = taken.filter((t) => t.start < range.end && t.end > range.start).sort((a, b) => a.start - b.start)
  const out: Range[] = []
  let at = range.start
  for (const t of [...inside, { start: range.end, end: range.end }]) {
    let start = at
    let end = Math.min(t.start, range.end)
    while (start < end && SPACE.test(text[start] as string)) start++
    while (end > start && SPACE.test(text[end - 1] as string)) end--
    if (end > start) out.push({ start, end })
    at = Math.max(at, t.end)
  }
  return out
}

// A run of spaces with invisible format characters (bidirectional marks, joiners) in it is one
// space: the marks only meant something next to the parts that were taken out.
const GAP = /[\p{White_Space}\p{Cf}]*\p{White_Space}[\p{White_Space}\p{Cf}]*/gu
const EDGES = /^[\p{White_Space}\p{Cf},;:\-–—]+|[\p{White_Space}\p{Cf},;:\-–—]+$/gu

/** What is left of the text once the parsed parts are out: single spaces, no separators at the ends. */
const titleOf = (text: string, ranges: readonly Range[]) =>
  trimText(blank(text, ranges).replace(GAP, ' ').replace(EDGES, ''))

const characters = (s: string) => [...s].length
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}]/u

const zoned = (local: Temporal.PlainDateTime, tz: string) =>
  local.toZonedDateTime(tz, { disambiguation: 'compatible' }).toInstant()
const instantDue = (at: Temporal.Instant): Due => ({ kind: 'instant', at: new Date(at.epochMilliseconds) })

/** A due value without a rule: an instant when a time was said, else a calendar date. */
function plainDue(phrase: DatePhrase, tz: string): Due {
  if (phrase.instant) return instantDue(phrase.instant)
  const day = (phrase.date ?? phrase.nextDay) as Temporal.PlainDate
  if (phrase.time) return instantDue(zoned(day.toPlainDateTime(phrase.time), tz))
  return { kind: 'date', date: day.toString() }
}

/**
 * The first occurrence of `rule`: on or after the date the text gives (else today in `tz`),
 * at the time it gives (else a series of calendar dates). A time alone that has passed today
 * starts the series tomorrow.
 */
function recurringDue(
  rule: string,
  phrase: DatePhrase | undefined,
  tz: string,
  now: Temporal.Instant,
): { due: Due; start?: Temporal.PlainDateTime } {
  const today = now.toZonedDateTimeISO(tz).toPlainDate()
  const exact = phrase?.instant?.toZonedDateTimeISO(tz).toPlainDateTime()
  const time = exact?.toPlainTime() ?? phrase?.time
  let start = exact ?? (phrase?.date ?? today).toPlainDateTime(time)
  if (time && !exact && !phrase?.date && Temporal.Instant.compare(zoned(start, tz), now) < 0)
    start = start.add({ days: 1 })
  // The next matching day, whatever the INTERVAL: "every other week on tuesday" said on a
  // Saturday is due on the coming Tuesday, and then every second week from there.
  const first = firstOccurrence(rule.replace(/;INTERVAL=\d+/, ''), start, time === undefined)
  if (!first) throw invalid('names a schedule with no date to start on')
  if (time === undefined) return { due: { kind: 'date', date: first.toPlainDate().toString() } }
  return { due: instantDue(zoned(first, tz)), start: first }
}

const dueText = (due: Due) => (due.kind === 'date' ? due.date : due.at.toISOString())

/**
 * Reads a quick-add text (English): `#tags`, a `!priority`, an `@list` the user has, a
 * recurrence phrase ("every weekday"), a date or time ("tomorrow at 9") read in `tz` at `now`,
 * and the title (what is left). A 400 naming `text` when no title is left, or too much of one.
 */
export function parseQuickAdd({ text, tz, now, lists }: QuickAddInput): Parsed {
  const tokens = findTokens(text, lists)
  const tokenText = blank(text, tokens)
  const phrase = findRecurrence(tokenText)
  const date = findDate(phrase ? blank(tokenText, [phrase]) : tokenText, now, tz)

  const spans: Span[] = []
  const add = (field: SpanField, r: Range, value: string) =>
    spans.push({ field, start: r.start, end: r.end, text: text.slice(r.start, r.end), value })

  const { tags, keys } = normaliseTags(tokens.flatMap((t) => (t.kind === 'tag' ? [t.tag] : [])))
  if (tags.length > MAX_TAGS) throw invalid(`has ${tags.length} tags; a task can have at most ${MAX_TAGS}`)
  const long = tags.find((tag) => characters(tag) > MAX_TAG)
  if (long) throw invalid(`has the tag #${long.slice(0, 20)}…, longer than ${MAX_TAG} characters`)
  const parsed: Parsed = { title: '', tags, spans }
  for (const token of tokens) {
    // A tag's value is its spelling as stored: the first of the ones that differ only in case.
    if (token.kind === 'tag') add('tag', token, tags[keys.indexOf(tagKey(token.tag))] as string)
    else if (token.kind === 'priority') {
      parsed.priority = token.priority
      add('priority', token, token.priority)
    } else {
      parsed.list = token.list
      add('list', token, token.list.name)
    }
  }
  if (phrase) {
    const { due, start } = recurringDue(phrase.rule, date, tz, now)
    parsed.due = due
    parsed.recurrence = start ? { rule: phrase.rule, tz, start } : { rule: phrase.rule, tz }
    for (const r of pieces(text, phrase, tokens)) add('recurrence', r, phrase.rule)
  } else if (date) parsed.due = plainDue(date, tz)
  if (date && parsed.due)
    for (const r of pieces(text, date, [...tokens, ...(phrase ? [phrase] : [])])) add('due', r, dueText(parsed.due))
  spans.sort((a, b) => a.start - b.start)

  parsed.title = titleOf(text, spans)
  if (!VISIBLE.test(parsed.title)) throw invalid('leaves no title once the date, tags, priority and list are taken out')
  if (characters(parsed.title) > MAX_TITLE)
    throw invalid(
      `leaves a title longer than ${MAX_TITLE} characters once the date, tags, priority and list are taken out`,
    )
  return parsed
}
