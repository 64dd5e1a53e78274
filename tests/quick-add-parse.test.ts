import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { ProblemError } from '../src/http/problem'
import { type Parsed, parseQuickAdd } from '../src/modules/quick-add/parse'
import { formatDue } from '../src/modules/tasks/due'

// The reader of quick-add text on a fixed clock: Saturday 28 March 2026, 11:00 in Berlin, the
// day before the spring clock change (CET +01:00 today, CEST +02:00 from tomorrow 02:00).
const NOW = Temporal.Instant.from('2026-03-28T10:00:00Z')
const LISTS = [
  { id: 1, name: 'Inbox' },
  { id: 2, name: 'Home' },
  { id: 3, name: 'Home Improvement' },
]

const read = (text: string, tz = 'Europe/Berlin', now = NOW) => parseQuickAdd({ text, tz, now, lists: LISTS })
const due = (p: Parsed) => (p.due ? formatDue(p.due) : null)
const refused = (text: string, tz = 'Europe/Berlin') => {
  try {
    read(text, tz)
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error
    expect(error.status).toBe(400)
    expect(error.options.errors?.map((e) => e.field)).toEqual(['text'])
    return error.detail
  }
  throw new Error(`"${text}" was accepted`)
}

describe('recurrence phrases', () => {
  test.each([
    ['every day', 'FREQ=DAILY', '2026-03-28'],
    ['daily', 'FREQ=DAILY', '2026-03-28'],
    ['everyday', 'FREQ=DAILY', '2026-03-28'],
    ['every 3 days', 'FREQ=DAILY;INTERVAL=3', '2026-03-28'],
    ['every other day', 'FREQ=DAILY;INTERVAL=2', '2026-03-28'],
    ['every weekday', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', '2026-03-30'],
    ['every workday', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', '2026-03-30'],
    ['every weekend', 'FREQ=WEEKLY;BYDAY=SA,SU', '2026-03-28'],
    ['every week', 'FREQ=WEEKLY', '2026-03-28'],
    ['weekly', 'FREQ=WEEKLY', '2026-03-28'],
    ['every 2 weeks', 'FREQ=WEEKLY;INTERVAL=2', '2026-03-28'],
    ['every other week on tue, thu', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH', '2026-03-31'],
    ['every 2 months on the last friday', 'FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR', '2026-04-24'],
    ['weekly on mondays', 'FREQ=WEEKLY;BYDAY=MO', '2026-03-30'],
    ['every Monday', 'FREQ=WEEKLY;BYDAY=MO', '2026-03-30'],
    ['every mon and thu', 'FREQ=WEEKLY;BYDAY=MO,TH', '2026-03-30'],
    ['every Tuesday, Thursday and Saturday', 'FREQ=WEEKLY;BYDAY=TU,TH,SA', '2026-03-28'],
    ['every month', 'FREQ=MONTHLY', '2026-03-28'],
    ['monthly', 'FREQ=MONTHLY', '2026-03-28'],
    ['every month on the 1st', 'FREQ=MONTHLY;BYMONTHDAY=1', '2026-04-01'],
    ['monthly on the 15th', 'FREQ=MONTHLY;BYMONTHDAY=15', '2026-04-15'],
    ['every 1st and 15th', 'FREQ=MONTHLY;BYMONTHDAY=1,15', '2026-04-01'],
    ['every 31st', 'FREQ=MONTHLY;BYMONTHDAY=31', '2026-03-31'],
    ['every last day of the month', 'FREQ=MONTHLY;BYMONTHDAY=-1', '2026-03-31'],
    ['every month on the last day', 'FREQ=MONTHLY;BYMONTHDAY=-1', '2026-03-31'],
    ['every last friday', 'FREQ=MONTHLY;BYDAY=-1FR', '2026-04-24'],
    ['every month on the last friday', 'FREQ=MONTHLY;BYDAY=-1FR', '2026-04-24'],
    ['every first monday of the month', 'FREQ=MONTHLY;BYDAY=1MO', '2026-04-06'],
    ['every 2nd tuesday', 'FREQ=MONTHLY;BYDAY=2TU', '2026-04-14'],
    ['every 3 months', 'FREQ=MONTHLY;INTERVAL=3', '2026-03-28'],
    ['every year', 'FREQ=YEARLY', '2026-03-28'],
    ['annually', 'FREQ=YEARLY', '2026-03-28'],
    ['every year on dec 25', 'FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25', '2026-12-25'],
    ['every March 3', 'FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3', '2027-03-03'],
    ['every 29th of February', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29', '2028-02-29'],
  ])('"%s" is %s, first due %s', (phrase, rule, first) => {
    const p = read(`Task ${phrase} #x`)
    expect(p.recurrence).toEqual({ rule, tz: 'Europe/Berlin' })
    expect(due(p)).toBe(first)
    expect(p.title).toBe('Task')
    expect(p.spans.find((s) => s.field === 'recurrence')).toMatchObject({ text: phrase, value: rule })
  })

  test('what is not a recurrence stays in the title', () => {
    for (const text of [
      'every hour',
      'every 0 days',
      'every 1000 days',
      'Climb Everest',
      'weeklyish',
      'evenly daily-ish',
    ])
      expect(read(text).recurrence).toBeUndefined()
    expect(read('Climb Everest').title).toBe('Climb Everest')
  })

  test('with a time it is due at that time in tz; a time that has passed today starts tomorrow', () => {
    // 09:00 has passed in Berlin (11:00): tomorrow, the first day of summer time.
    expect(due(read('Meds every day at 9am'))).toBe('2026-03-29T07:00:00.000Z')
    expect(due(read('Meds every day at 5pm'))).toBe('2026-03-28T16:00:00.000Z')
    expect(due(read('Pay rent every month on the 1st at 9am #home !high'))).toBe('2026-04-01T07:00:00.000Z')
    expect(due(read('Run every weekday at 08:30', 'America/New_York'))).toBe('2026-03-30T12:30:00.000Z')
  })

  test('a date in the text is where the series starts: the first occurrence on or after it', () => {
    const p = read('Yoga every monday starting 2026-06-03')
    expect(due(p)).toBe('2026-06-08')
    expect(p.title).toBe('Yoga')
    expect(p.spans.map((s) => [s.field, s.text])).toEqual([
      ['recurrence', 'every monday'],
      ['due', 'starting 2026-06-03'],
    ])
  })

  test('a time then the date it starts on ("at 9am starting june 1") is one phrase: the date is not lost', () => {
    const p = read('Yoga every monday at 9am starting 2026-06-08 #x')
    expect([p.title, due(p)]).toEqual(['Yoga', '2026-06-08T07:00:00.000Z'])
    expect(p.spans.map((s) => [s.field, s.text])).toEqual([
      ['recurrence', 'every monday'],
      ['due', 'at 9am starting 2026-06-08'],
      ['tag', '#x'],
    ])
    expect(due(read('Yoga every monday 9am from june 1'))).toBe('2026-06-01T07:00:00.000Z')
    expect([read('Report at 5pm due friday').title, due(read('Report at 5pm due friday'))]).toEqual([
      'Report',
      '2026-04-03T15:00:00.000Z',
    ])
    // Anything else between them: the first date counts, the rest stays in the title.
    expect(read('Call at 9 then Bob on friday').title).toBe('Call then Bob on friday')
  })

  test('a rule the words make that has no date is a 400 naming text', () => {
    expect(refused('Party every 30th of February')).toContain('no date')
    expect(read('Party every 5th friday').recurrence?.rule).toBe('FREQ=MONTHLY;BYDAY=5FR')
  })
})

describe('dates and times (chrono-node, read in tz at the app clock)', () => {
  test.each([
    ['Call mom tomorrow at 9', 'Call mom', '2026-03-29T07:00:00.000Z'],
    ['Call at 9am', 'Call', '2026-03-29T07:00:00.000Z'],
    ['Lunch at noon', 'Lunch', '2026-03-28T11:00:00.000Z'],
    ['Stretch in 3 hours', 'Stretch', '2026-03-28T13:00:00.000Z'],
    ['Call at 14:00 UTC', 'Call', '2026-03-28T14:00:00.000Z'],
    ['Report due by friday 5pm', 'Report', '2026-04-03T15:00:00.000Z'],
    ['Groceries on Friday', 'Groceries', '2026-04-03'],
    ['Groceries friday', 'Groceries', '2026-04-03'],
    ['Dentist March 3', 'Dentist', '2027-03-03'],
    ['Dentist 2030-03-05', 'Dentist', '2030-03-05'],
    ['Backup yesterday', 'Backup', '2026-03-27'],
    ['Plan next week', 'Plan', '2026-04-04'],
    ['Taxes end of month', 'Taxes', '2026-03-31'],
    ['Buy sun screen', 'Buy sun screen', null],
    ['Read page 12', 'Read page 12', null],
    ['Fix bug #123', 'Fix bug #123', null],
  ])('"%s": title "%s", due %s', (text, title, value) => {
    const p = read(text)
    expect(p.title).toBe(title)
    expect(due(p)).toBe(value)
    expect(p.recurrence).toBeUndefined()
  })

  test('an amount without "in" is not a date: "2m cable" is a length, "30 min" how long it takes', () => {
    for (const text of [
      'Buy 2m cable',
      'Read 30 min',
      'Buy 3h battery',
      'Buy 4d glasses',
      'Plank 1 minute',
      'Rest a day',
    ])
      expect([text, due(read(text))]).toEqual([text, null])
    const p = read('Buy 5m rope tomorrow')
    expect([p.title, due(p)]).toEqual(['Buy 5m rope', '2026-03-29'])
    // With a word that makes it a time from now, it still is one.
    expect(due(read('Stretch in 5m'))).toBe('2026-03-28T10:05:00.000Z')
    expect(due(read('Stretch within 2 hours'))).toBe('2026-03-28T12:00:00.000Z')
    expect(due(read('Stretch 3 days later'))).toBe('2026-03-31')
    expect(due(read('Stretch 2 hours from now'))).toBe('2026-03-28T12:00:00.000Z')
    expect(due(read('Stretch +5m'))).toBe('2026-03-28T10:05:00.000Z')
  })

  test('the calendar of tz decides "today" and "tomorrow"', () => {
    // 10:00 UTC is 23:00 on the 28th in Auckland... and already the 29th at 12:00 in Kiritimati.
    expect(due(read('x tomorrow', 'Pacific/Auckland'))).toBe('2026-03-29')
    expect(due(read('x tomorrow', 'Pacific/Kiritimati'))).toBe('2026-03-30')
    expect(due(read('x tomorrow', 'America/Los_Angeles'))).toBe('2026-03-29')
    expect(due(read('x today at 23:30', 'Pacific/Auckland'))).toBe('2026-03-28T10:30:00.000Z')
  })

  test('only the first date counts; a later one stays in the title', () => {
    const p = read('Call Anna friday, then Bob on monday')
    expect(due(p)).toBe('2026-04-03')
    expect(p.title).toEndWith('then Bob on monday')
  })
})

describe('tags, priority, list and spans', () => {
  test('a phrase interrupted by a tag is two spans of one field; spans are in order and disjoint', () => {
    const text = 'Call tomorrow #home at 9 !2 @home improvement'
    const p = read(text)
    expect(p).toMatchObject({ title: 'Call', tags: ['home'], priority: 'medium', list: { id: 3 } })
    expect(p.spans.map((s) => [s.field, s.text])).toEqual([
      ['due', 'tomorrow'],
      ['tag', '#home'],
      ['due', 'at 9'],
      ['priority', '!2'],
      ['list', '@home improvement'],
    ])
    for (const [i, s] of p.spans.entries()) {
      expect(text.slice(s.start, s.end)).toBe(s.text)
      if (i > 0) expect(s.start).toBeGreaterThanOrEqual((p.spans[i - 1] as { end: number }).end)
    }
  })

  test('the title is what is left: single spaces, no separators at its ends', () => {
    expect(read('  Pay   rent,  every day  -  #x ').title).toBe('Pay rent')
    expect(read('Buy\tmilk\n!low').title).toBe('Buy milk')
  })

  test('a list is matched by the longest name, whole words only, and only the first @list counts', () => {
    expect(read('x @Home Improvement').list?.id).toBe(3)
    expect(read('x @home improvements').list?.id).toBe(2)
    expect(read('x @homework').list).toBeUndefined()
    const p = read('x @home @inbox')
    expect([p.list?.id, p.title]).toEqual([2, 'x @inbox'])
  })

  test('hostile text stays fast and is either a task or a 400 naming text', () => {
    const lists = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, name: `list ${i} ${'x'.repeat(i % 90)}` }))
    const texts = [
      '1'.repeat(1000),
      'every '.repeat(166),
      'every monday and '.repeat(58),
      '@'.repeat(1000),
      '@list 1 '.repeat(120),
      '#'.repeat(1000),
      'tomorrow at 9 '.repeat(70),
      '1/1/1 '.repeat(160),
      'on the 1st and 2nd and '.repeat(40),
      '🙂'.repeat(1000),
      `${'\u200f'.repeat(999)}a`,
      '!'.repeat(1000),
    ]
    for (const text of texts) {
      const started = performance.now()
      try {
        parseQuickAdd({ text, tz: 'Europe/Berlin', now: NOW, lists })
      } catch (error) {
        expect(error).toBeInstanceOf(ProblemError)
      }
      expect(performance.now() - started).toBeLessThan(500)
    }
  })
})

describe('spans of any text', () => {
  // Pieces that become fields or nearly do, and text that is hard on offsets: pairs of UTF-16
  // units (emoji), combining marks, joiners, bidirectional marks, controls and line breaks.
  const PIECES = [
    ...['every', 'day', 'weekday', '2', 'weeks', 'month', 'on', 'the', '1st', 'last', 'friday', 'at', '9am', '2:30'],
    ...['tomorrow', 'noon', 'in', '3 hours', 'march 3', '2026-06-01', '14:00 UTC', 'by', 'due', 'starting', '5m'],
    ...['#home', '#', '#a.', '#🙂', '!high', '!1', '!', '@home', '@Home Improvement', '@inbox', '@', 'Buy', 'milk'],
    ...[
      '🙂',
      '👨\u200d👩\u200d👧',
      'e\u0301',
      '\u200f',
      '\u200d',
      '\u202e',
      ',',
      ';',
      '-',
      '—',
      '.',
      '\n',
      '\t',
      '\u0001',
    ],
  ]
  const piece = fc.constantFrom(...PIECES)
  const separator = fc.constantFrom(' ', '', '  ', '\n', '\u200f', ',')
  const texts = fc.oneof(
    fc.array(fc.tuple(piece, separator), { minLength: 1, maxLength: 14 }).map((a) => a.map((p) => p.join('')).join('')),
    fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => `x ${s}`),
  )
  const SEPARATORS = /[\p{White_Space}\p{Cf}\p{Cc},;:\-–—]/gu
  const splitsPair = (text: string, i: number) =>
    /[\ud800-\udbff]/.test(text[i - 1] ?? '') && /[\udc00-\udfff]/.test(text[i] ?? '')

  test('are in order, never overlap or split a pair, are the text they cover without edge spaces; with the title they are all of it', () => {
    fc.assert(
      fc.property(texts, fc.constantFrom('Europe/Berlin', 'UTC', 'Australia/Lord_Howe'), (text, tz) => {
        let p: Parsed
        try {
          p = read(text, tz)
        } catch (error) {
          if (error instanceof ProblemError && error.status === 400) return
          throw error
        }
        let end = 0
        let rest = ''
        for (const span of p.spans) {
          expect(span.start).toBeGreaterThanOrEqual(end)
          expect(span.end).toBeGreaterThan(span.start)
          expect(text.slice(span.start, span.end)).toBe(span.text)
          expect(span.text.trim()).toBe(span.text)
          expect([splitsPair(text, span.start), splitsPair(text, span.end)]).toEqual([false, false])
          rest += `${text.slice(end, span.start)} `
          end = span.end
        }
        rest += text.slice(end)
        expect(p.title.replace(SEPARATORS, '')).toBe(rest.replace(SEPARATORS, ''))
      }),
      { numRuns: 3000 },
    )
  })
})
