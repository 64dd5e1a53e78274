import { describe, expect, test } from 'bun:test'
import { RRuleTemporal } from 'rrule-temporal'

// What rrule-temporal (the pinned version) does on its own, where src/modules/tasks/recurrence.ts
// works around it. If an upgrade changes one of these, the workaround may no longer be needed.
const occurrences = (start: string, rule: string, n: number) =>
  new RRuleTemporal({ rruleString: rule, dtstart: Temporal.ZonedDateTime.from(start) })
    .all((_, i) => i < n)
    .map((d) => d.toString())

describe('rrule-temporal on its own', () => {
  test('drops an occurrence whose time falls in a spring-forward gap (RFC 5545 moves it forward)', () => {
    expect(occurrences('2026-03-28T02:30:00[Europe/Berlin]', 'FREQ=DAILY', 3)).toEqual([
      '2026-03-28T02:30:00+01:00[Europe/Berlin]',
      '2026-03-30T02:30:00+02:00[Europe/Berlin]', // 29 March is missing
      '2026-03-31T02:30:00+02:00[Europe/Berlin]',
    ])
  })

  test('accepts invalid rules that our check refuses', () => {
    const start = '2026-01-01T09:00:00[UTC]'
    expect(occurrences(start, 'FREQ=MONTHLY;BYMONTHDAY=32', 2)).toHaveLength(2)
    expect(occurrences(start, 'FREQ=YEARLY;BYMONTH=13', 2)).toHaveLength(2)
    expect(occurrences(start, 'FREQ=DAILY;COUNT=2;UNTIL=20260105T000000Z', 3)).toHaveLength(2)
  })

  test('keeps the wall-clock time across clock changes and skips missing month days', () => {
    expect(occurrences('2026-10-24T09:00:00[Europe/Berlin]', 'FREQ=DAILY', 2)).toEqual([
      '2026-10-24T09:00:00+02:00[Europe/Berlin]',
      '2026-10-25T09:00:00+01:00[Europe/Berlin]',
    ])
    expect(occurrences('2026-01-31T09:00:00[UTC]', 'FREQ=MONTHLY', 2)).toEqual([
      '2026-01-31T09:00:00+00:00[UTC]',
      '2026-03-31T09:00:00+00:00[UTC]',
    ])
  })
})
