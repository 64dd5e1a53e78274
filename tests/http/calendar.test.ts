import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import ICAL from 'ical.js'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { dbRows } from '../support/lists'
import { createTask, type NewTask, tasksOf } from '../support/tasks'

// The calendar feed (issue 14): a per-user key made and revoked with a bearer token, and
// GET /api/{user_id}/calendar.ics?key=... answering an iCalendar document that calendar apps
// can subscribe to. Each feed is parsed back with ical.js (a parser that shares no code with
// the generator) and compared with events written out by hand.

let api: TestApp
let alice: string
let bob: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
  bob = await tokenFor('bob')
})

interface CalendarKey {
  key: string
  url: string
  webcal_url: string
  created_at: string
}

const keyRoute = (token: string, user: string) => api.as(token).api({ user_id: user }).calendar.key
const makeKey = async (token = alice, user = 'alice') => expectStatus(await keyRoute(token, user).post(), 201)
const keyStatus = async (token = alice, user = 'alice') => expectStatus(await keyRoute(token, user).get(), 200)
/** The feed's path and query, from the URL the key route answered. */
const feedPath = (url: string) => {
  const u = new URL(url)
  return `${u.pathname}${u.search}`
}
const fetchFeed = (path: string, headers: Record<string, string> = {}) => api.request('GET', path, { headers })
const create = (body: NewTask, token = alice, user = 'alice') => createTask(api, token, user, body)
const complete = async (id: number) =>
  expectStatus(await tasksOf(api, alice, 'alice')({ id }).complete.patch({ completed: true }), 200)

/** The feed as text, asserting a 200 with the iCalendar content type. */
async function feedText(path: string): Promise<string> {
  const res = await fetchFeed(path)
  const body = await res.text()
  expect(res.status, body).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/calendar; charset=utf-8')
  return body
}

interface ParsedEvent {
  uid: string
  summary: string
  description: string | null
  /** `2026-03-02` for a date, `2026-03-02T09:00:00` + zone otherwise, as the file has it. */
  start: string
  end: string
  zone: string | null
  rrule: string | null
  categories: string[]
  event: ICAL.Event
}

/** Parses a feed with ical.js, registering its VTIMEZONEs so times with a TZID resolve through them. */
function parse(text: string): { calendar: ICAL.Component; events: ParsedEvent[] } {
  const calendar = new ICAL.Component(ICAL.parse(text))
  // RRULE as the file spells it (ical.js would write its parts in its own order).
  const rrules = text
    .replace(/\r\n[ \t]/g, '')
    .split('BEGIN:VEVENT')
    .slice(1)
    .map((block) => /^RRULE:(.*)$/m.exec(block)?.[1]?.trim() ?? null)
  for (const zone of calendar.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(zone)
  const events = calendar.getAllSubcomponents('vevent').map((component, i) => {
    const event = new ICAL.Event(component)
    const start = component.getFirstProperty('dtstart')
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description ?? null,
      start: event.startDate.toString(),
      end: event.endDate.toString(),
      zone: (start?.getParameter('tzid') as string | undefined) ?? null,
      rrule: rrules[i] ?? null,
      categories: component.getAllProperties('categories').flatMap((p) => p.getValues() as string[]),
      event,
    }
  })
  return { calendar, events }
}

/** The first `n` occurrences of a recurring event as UTC instants (or dates), computed by ical.js. */
function occurrences(event: ICAL.Event, n: number): string[] {
  const it = event.iterator()
  const out: string[] = []
  for (let next = it.next(); next && out.length < n; next = it.next())
    out.push(next.isDate ? next.toString() : next.toJSDate().toISOString())
  return out
}

const pick = ({ uid, summary, description, start, end, zone, rrule }: ParsedEvent) => ({
  uid,
  summary,
  description,
  start,
  end,
  zone,
  rrule,
})

describe('the key', () => {
  test('is made, shown once with the feed URL, stored as a hash, and reported without itself', async () => {
    expect(await keyStatus()).toEqual({ exists: false, created_at: null })
    const made = await makeKey()
    expect(made.key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(feedPath(made.url)).toBe(`/api/alice/calendar.ics?key=${made.key}`)
    expect(made.webcal_url).toBe(made.url.replace(/^http:/, 'webcal:'))
    const status = await keyStatus()
    expect(status).toEqual({ exists: true, created_at: made.created_at })
    const [stored] = await dbRows<{ key_hash: string }>(sql`select key_hash from calendar_keys where user_id = 'alice'`)
    expect(stored?.key_hash).toBe(new Bun.CryptoHasher('sha256').update(made.key).digest('hex'))
    expect(await feedText(feedPath(made.url))).toStartWith('BEGIN:VCALENDAR\r\n')
  })

  test('`me` names the caller on the key routes; the URL names the real id', async () => {
    const made = await makeKey(alice, 'me')
    expect(feedPath(made.url)).toBe(`/api/alice/calendar.ics?key=${made.key}`)
    expect((await keyStatus(alice, 'me')).exists).toBe(true)
  })

  test('a new key replaces the old one at once', async () => {
    const first = await makeKey()
    const second = await makeKey()
    expect(second.key).not.toBe(first.key)
    await expectProblem(await fetchFeed(feedPath(first.url)), 404, 'not_found')
    await feedText(feedPath(second.url))
  })

  test('revoked, the feed is refused; revoking again is a 204 too', async () => {
    const made = await makeKey()
    expect((await keyRoute(alice, 'alice').delete()).status).toBe(204)
    await expectProblem(await fetchFeed(feedPath(made.url)), 404, 'not_found')
    expect(await keyStatus()).toEqual({ exists: false, created_at: null })
    expect((await keyRoute(alice, 'alice').delete()).status).toBe(204)
  })

  test("the key routes need the user's own bearer token", async () => {
    await expectProblem(await api.request('POST', '/api/alice/calendar/key'), 401, 'unauthorized')
    await expectProblem(await keyRoute(bob, 'alice').post(), 403, 'forbidden')
    await expectProblem(await keyRoute(bob, 'alice').delete(), 403, 'forbidden')
    expect(await keyStatus()).toEqual({ exists: false, created_at: null })
  })

  test('Idempotency-Key does not keep the answer (it would store the key in clear): each POST makes a key', async () => {
    const headers = { 'idempotency-key': 'cal-1' }
    const first = await api.request('POST', '/api/alice/calendar/key', { token: alice, headers })
    const second = await api.request('POST', '/api/alice/calendar/key', { token: alice, headers })
    expect(second.headers.get('idempotent-replayed')).toBeNull()
    const [a, b] = [await json<CalendarKey>(first), await json<CalendarKey>(second)]
    expect(a.key).not.toBe(b.key)
    const kept = await dbRows<{ n: number }>(
      sql`select count(*)::int as n from idempotency_keys where user_id = 'alice'`,
    )
    expect(kept[0]?.n).toBe(0)
    await expectProblem(await fetchFeed(feedPath(a.url)), 404, 'not_found')
    await feedText(feedPath(b.url))
  })
})

describe('the feed is refused without the right key, whose ever it is', () => {
  test("another user's key, a key on another user's path, an unknown user: 404, nothing told apart", async () => {
    const mine = await makeKey()
    const theirs = await makeKey(bob, 'bob')
    await create({ title: 'secret of bob', due_date: '2026-12-01' }, bob, 'bob')
    const answers = [
      await fetchFeed(`/api/alice/calendar.ics?key=${theirs.key}`),
      await fetchFeed(`/api/bob/calendar.ics?key=${mine.key}`),
      await fetchFeed(`/api/nobody/calendar.ics?key=${mine.key}`),
      await fetchFeed(`/api/alice/calendar.ics?key=${'A'.repeat(43)}`),
    ]
    const details = new Set<string>()
    for (const res of answers) details.add((await expectProblem(res, 404, 'not_found')).detail)
    expect(details.size).toBe(1)
  })

  test('no key, a malformed one, two of them, or the access token: 400 naming key', async () => {
    const { key } = await makeKey()
    for (const query of ['', '?key=short', `?key=${alice}`, `?key=${key}&key=${key}`, `?key=${key}&extra=1`]) {
      const problem = await expectProblem(await fetchFeed(`/api/alice/calendar.ics${query}`), 400, 'validation_failed')
      expect(JSON.stringify(problem)).not.toContain(key)
    }
  })

  test('a bearer token does not open the feed', async () => {
    const res = await api.request('GET', '/api/alice/calendar.ics', { token: alice })
    await expectProblem(res, 400, 'validation_failed')
  })

  test('the key never reaches the log, answered or refused', async () => {
    const made = await makeKey()
    await feedText(feedPath(made.url))
    await fetchFeed(`/api/bob/calendar.ics?key=${made.key}`)
    await fetchFeed(`/api/alice/calendar.ics?key=${made.key}&key=x`)
    expect((await keyRoute(alice, 'alice').delete()).status).toBe(204)
    await fetchFeed(feedPath(made.url))
    // In process, a request's line is written just after its answer.
    const requestLines = (text: string) => text.split('"msg":"request"').length - 1
    let logs = await api.rawLogs()
    for (let waited = 0; requestLines(logs) < 6 && waited < 2000; waited += 10) {
      await Bun.sleep(10)
      logs = await api.rawLogs()
    }
    expect(requestLines(logs)).toBeGreaterThanOrEqual(6)
    expect(logs).toContain('/api/:user_id/calendar.ics')
    expect(logs).not.toContain(made.key)
  })
})

describe('caching', () => {
  test('ETag and If-None-Match: 304 while nothing changed, 200 with a new tag after a change', async () => {
    const path = feedPath((await makeKey()).url)
    await create({ title: 'a', due_date: '2026-12-01' })
    const first = await fetchFeed(path)
    const etag = first.headers.get('etag') as string
    expect(etag).toMatch(/^"[\w-]+"$/)
    expect(first.headers.get('cache-control')).toBe('private, no-cache')
    expect((await fetchFeed(path)).headers.get('etag')).toBe(etag)
    const again = await fetchFeed(path, { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    await create({ title: 'b', due_date: '2026-12-02' })
    const changed = await fetchFeed(path, { 'if-none-match': etag })
    expect(changed.status).toBe(200)
    expect(changed.headers.get('etag')).not.toBe(etag)
  })
})

describe('what the feed holds', () => {
  test('open tasks with a due date, as all-day and timed events; not done, trashed or undated ones', async () => {
    const path = feedPath((await makeKey()).url)
    const day = await create({
      title: 'Pay rent',
      description: 'to the landlord',
      due_date: '2026-12-01',
      tags: ['home'],
    })
    const timed = await create({ title: 'Call the bank', due_date: '2026-12-02T14:15:00+01:00', priority: 'high' })
    const parent = await create({ title: 'Trip', due_date: '2026-12-20' })
    const sub = await create({ title: 'Book the train', due_date: '2026-12-10', parent_id: parent.id })
    const done = await create({ title: 'done', due_date: '2026-12-03' })
    await complete(done.id)
    const trashed = await create({ title: 'trashed', due_date: '2026-12-04' })
    expect((await api.request('DELETE', `/api/alice/tasks/${trashed.id}`, { token: alice })).status).toBe(204)
    await create({ title: 'no due date' })
    await create({ title: 'bob', due_date: '2026-12-01' }, bob, 'bob')

    const text = await feedText(path)
    const { calendar, events } = parse(text)
    expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe('Tasks of alice')
    expect(String(calendar.getFirstPropertyValue('refresh-interval'))).toBe('PT1H')
    expect(String(calendar.getFirstPropertyValue('x-published-ttl'))).toBe('PT1H')
    const host = new URL(`http://${(await api.origin()).replace(/^https?:\/\//, '')}`).hostname
    const uid = (id: number) => `task-${id}@${api.target === 'binary' ? host : 'localhost'}`
    expect(events.map(pick)).toEqual([
      {
        uid: uid(day.id),
        summary: 'Pay rent',
        description: 'to the landlord',
        start: '2026-12-01',
        end: '2026-12-02',
        zone: null,
        rrule: null,
      },
      {
        uid: uid(timed.id),
        summary: 'Call the bank',
        description: null,
        start: '2026-12-02T13:15:00Z',
        end: '2026-12-02T13:45:00Z',
        zone: null,
        rrule: null,
      },
      {
        uid: uid(sub.id),
        summary: 'Book the train',
        description: null,
        start: '2026-12-10',
        end: '2026-12-11',
        zone: null,
        rrule: null,
      },
      {
        uid: uid(parent.id),
        summary: 'Trip',
        description: null,
        start: '2026-12-20',
        end: '2026-12-21',
        zone: null,
        rrule: null,
      },
    ])
    expect(events[0]?.categories).toEqual(['home'])
    expect(events[1]?.event.component.getFirstPropertyValue('priority')).toBe(1 as never)
    expect(events[1]?.event.component.getFirstPropertyValue('transp')).toBe('TRANSPARENT')
  })

  test('UIDs stay the same from one fetch to the next, and when a task changes', async () => {
    const path = feedPath((await makeKey()).url)
    const task = await create({ title: 'before', due_date: '2026-12-01' })
    const before = parse(await feedText(path)).events.map((e) => e.uid)
    expectStatus(await tasksOf(api, alice, 'alice')({ id: task.id }).patch({ title: 'after' }), 200)
    const after = parse(await feedText(path)).events
    expect(after.map((e) => e.uid)).toEqual(before)
    expect(after[0]?.summary).toBe('after')
  })

  test('text is escaped: commas, semicolons, backslashes, line breaks, emoji, control characters', async () => {
    const path = feedPath((await makeKey()).url)
    const title = 'Rent; gas, water \\ power 🏠 Ünïcödé\u200d\u202e'
    const description = 'line one\nline two, with; all\r\nthird\u0007bell'
    await create({ title, description, due_date: '2026-12-01', tags: ['semi;colon', 'back\\slash'] })
    const text = await feedText(path)
    const [event] = parse(text).events
    expect(event?.summary).toBe(title)
    expect(event?.description).toBe('line one\nline two, with; all\nthird\ufffdbell')
    expect(event?.categories).toEqual(['semi;colon', 'back\\slash'])
    expect(text).toContain('SUMMARY:Rent\\; gas\\, water \\\\ power')
  })

  test('lines end in CRLF and are folded at 75 octets without splitting a character', async () => {
    const path = feedPath((await makeKey()).url)
    await create({ title: `${'é'.repeat(60)}${'🏠'.repeat(40)}`, description: 'x'.repeat(900), due_date: '2026-12-01' })
    const res = await fetchFeed(path)
    const bytes = new Uint8Array(await res.arrayBuffer())
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    expect(text.endsWith('\r\n')).toBe(true)
    const lines = text.slice(0, -2).split('\r\n')
    expect(lines.every((l) => !l.includes('\n') && !l.includes('\r'))).toBe(true)
    for (const line of lines) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75)
    expect(parse(text).events[0]?.summary).toBe(`${'é'.repeat(60)}${'🏠'.repeat(40)}`)
  })
  test("the calendar's name is escaped text too: the owner's name adds no line or property", async () => {
    const name = 'Ada; Lovelace, C:\\new\r\nBEGIN:VEVENT\u0007'
    const path = feedPath((await makeKey(await tokenFor('alice', { name }))).url)
    const text = await feedText(path)
    const escaped = 'Tasks of Ada\\; Lovelace\\, C:\\\\new\\nBEGIN:VEVENT\ufffd'
    expect(text).toContain(`\r\nNAME:${escaped}\r\nX-WR-CALNAME:${escaped}\r\n`)
    // ical.js reads both as values of unknown type, so they come back as the file has them.
    const { calendar, events } = parse(text)
    expect(calendar.getAllProperties().map((p) => [p.name, p.getFirstValue()])).toEqual([
      ['version', '2.0'],
      ['prodid', '-//todo-api//calendar feed//EN'],
      ['method', 'PUBLISH'],
      ['name', escaped],
      ['x-wr-calname', escaped],
      ['refresh-interval', expect.anything()],
      ['x-published-ttl', expect.anything()],
    ])
    expect(events).toEqual([])
  })
  test('years 1 to 9999: DTSTART and DTEND keep four-digit years, in a time zone too', async () => {
    const path = feedPath((await makeKey()).url)
    await create({
      title: 'year 999',
      due_date: '0999-06-01T09:00:00-12:00',
      recurrence: { rule: 'FREQ=YEARLY', tz: 'Etc/GMT+12' },
    })
    await create({ title: 'year 1', due_date: '0001-01-01T09:00:00Z' })
    const text = await feedText(path)
    expect(text).toContain('DTSTART;TZID=Etc/GMT+12:09990601T090000\r\n')
    expect(text).toContain('DTEND;TZID=Etc/GMT+12:09990601T093000\r\n')
    const { events } = parse(text)
    const [year999, year1] = [events.find((e) => e.summary === 'year 999'), events.find((e) => e.summary === 'year 1')]
    expect(occurrences(year999?.event as ICAL.Event, 2)).toEqual([
      '0999-06-01T21:00:00.000Z',
      '1000-06-01T21:00:00.000Z',
    ])
    expect(text).toContain('DTSTART:00010101T090000Z\r\nDTEND:00010101T093000Z\r\n')
    // (ical.js's own toJSDate reads year 1 as 1901.)
    expect(year1?.event.startDate.year).toBe(1)
  })

  test('an event that would end after 9999 ends within it (an all-day one by its one-day default)', async () => {
    const path = feedPath((await makeKey()).url)
    await create({ title: 'last day', due_date: '9999-12-31' })
    await create({ title: 'last minutes', due_date: '9999-12-31T23:50:00Z' })
    await create({
      title: 'last minutes in Berlin',
      due_date: '9999-12-31T23:50:00+01:00',
      recurrence: { rule: 'FREQ=DAILY', tz: 'Europe/Berlin' },
    })
    const text = await feedText(path)
    const vevents = text.split('BEGIN:VEVENT').slice(1).join('')
    const times = vevents.split('\r\n').filter((line) => /^DT(START|END)[;:]/.test(line))
    expect(times).toHaveLength(5)
    for (const line of times) expect(line).toMatch(/:9999\d{4}(T\d{6}Z?)?$/)
    const events = parse(text).events.map(pick)
    expect(events.find((e) => e.summary === 'last day')).toMatchObject({ start: '9999-12-31', end: '10000-01-01' })
    expect(events.find((e) => e.summary === 'last minutes')).toMatchObject({
      start: '9999-12-31T23:50:00Z',
      end: '9999-12-31T23:59:59Z',
    })
    expect(events.find((e) => e.summary === 'last minutes in Berlin')).toMatchObject({
      start: '9999-12-31T23:50:00',
      end: '9999-12-31T23:59:59',
      zone: 'Europe/Berlin',
    })
  })
})

describe('recurring tasks are recurring events', () => {
  test('daily at 09:00 in Berlin: TZID and its VTIMEZONE, the wall-clock time kept across the clock change', async () => {
    const path = feedPath((await makeKey()).url)
    await create({
      title: 'Water the plants',
      due_date: '2027-03-26T09:00:00+01:00',
      recurrence: { rule: 'FREQ=DAILY', tz: 'Europe/Berlin' },
    })
    const [event] = parse(await feedText(path)).events
    expect(event && pick(event)).toMatchObject({
      start: '2027-03-26T09:00:00',
      end: '2027-03-26T09:30:00',
      zone: 'Europe/Berlin',
      rrule: 'FREQ=DAILY',
    })
    // Through the file's own VTIMEZONE: 09:00 CET is 08:00Z, 09:00 CEST (from 28 March) 07:00Z.
    expect(occurrences(event?.event as ICAL.Event, 4)).toEqual([
      '2027-03-26T08:00:00.000Z',
      '2027-03-27T08:00:00.000Z',
      '2027-03-28T07:00:00.000Z',
      '2027-03-29T07:00:00.000Z',
    ])
  })

  test('New York across the autumn change, and Lord Howe with its 30-minute shift', async () => {
    const path = feedPath((await makeKey()).url)
    await create({
      title: 'ny',
      due_date: '2026-10-31T09:00:00-04:00',
      recurrence: { rule: 'FREQ=DAILY', tz: 'America/New_York' },
    })
    await create({
      title: 'lord howe',
      due_date: '2027-04-03T09:00:00+11:00',
      recurrence: { rule: 'FREQ=DAILY', tz: 'Australia/Lord_Howe' },
    })
    const events = parse(await feedText(path)).events
    const by = (summary: string) => events.find((e) => e.summary === summary)?.event as ICAL.Event
    expect(occurrences(by('ny'), 3)).toEqual([
      '2026-10-31T13:00:00.000Z',
      '2026-11-01T14:00:00.000Z',
      '2026-11-02T14:00:00.000Z',
    ])
    // Lord Howe goes from +11:00 to +10:30 at 02:00 on 4 April 2027.
    expect(occurrences(by('lord howe'), 3)).toEqual([
      '2027-04-02T22:00:00.000Z',
      '2027-04-03T22:30:00.000Z',
      '2027-04-04T22:30:00.000Z',
    ])
  })

  test('DTSTART is the current occurrence and COUNT what is left of it', async () => {
    const path = feedPath((await makeKey()).url)
    const task = await create({
      title: 'three Mondays',
      due_date: '2026-03-02',
      recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=3', tz: 'Europe/Berlin' },
    })
    await complete(task.id)
    const [event] = parse(await feedText(path)).events
    expect(event && pick(event)).toMatchObject({
      start: '2026-03-09',
      end: '2026-03-10',
      rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=2',
    })
    expect(occurrences(event?.event as ICAL.Event, 10)).toEqual(['2026-03-09', '2026-03-16'])
  })

  test('an UNTIL date on a timed series ends after that day in its zone, written in UTC', async () => {
    const path = feedPath((await makeKey()).url)
    await create({
      title: 'until Sunday',
      due_date: '2026-10-23T23:30:00+02:00',
      recurrence: { rule: 'FREQ=DAILY;UNTIL=20261025', tz: 'Europe/Berlin' },
    })
    const [event] = parse(await feedText(path)).events
    // The last second of 25 October in Berlin (CET by then) is 22:59:59Z.
    expect(event?.rrule).toBe('FREQ=DAILY;UNTIL=20261025T225959Z')
    expect(occurrences(event?.event as ICAL.Event, 10)).toEqual([
      '2026-10-23T21:30:00.000Z',
      '2026-10-24T21:30:00.000Z',
      '2026-10-25T22:30:00.000Z',
    ])
  })

  test('a current occurrence the spring change skips keeps its wall-clock time in DTSTART', async () => {
    const path = feedPath((await makeKey()).url)
    const task = await create({
      title: 'at 02:30',
      due_date: '2027-03-27T02:30:00+01:00',
      recurrence: { rule: 'FREQ=DAILY', tz: 'Europe/Berlin' },
    })
    // Now due on 28 March 2027, when 02:30 does not exist (the API moved it to 03:30 CEST).
    expect((await complete(task.id)).due_date).toBe('2027-03-28T01:30:00.000Z')
    const text = await feedText(path)
    expect(text).toContain('DTSTART;TZID=Europe/Berlin:20270328T023000\r\n')
    const [event] = parse(text).events
    expect(event?.rrule).toBe('FREQ=DAILY')
    // The days after are at 02:30 again (CEST: 00:30Z), not at 03:30.
    expect(occurrences(event?.event as ICAL.Event, 3).slice(1)).toEqual([
      '2027-03-29T00:30:00.000Z',
      '2027-03-30T00:30:00.000Z',
    ])
  })

  test('zone data runs at most 100 years past now: a series set in year 9999 does not make the feed megabytes', async () => {
    const path = feedPath((await makeKey()).url)
    for (const due of ['2027-03-26T09:00:00+01:00', '9999-03-26T09:00:00+01:00'])
      await create({ title: due, due_date: due, recurrence: { rule: 'FREQ=DAILY', tz: 'Europe/Berlin' } })
    const text = await feedText(path)
    const starts = [...text.matchAll(/BEGIN:(?:STANDARD|DAYLIGHT)\r\nDTSTART:(\d{4})/g)].map((m) => Number(m[1]))
    const thisYear = new Date().getUTCFullYear()
    expect(Math.max(...starts)).toBe(thisYear + 100)
    // Two changes a year from 2027 on, where 16,000 were written up to year 10010.
    expect(starts.length).toBeLessThan(2 * 110)
    expect(text.length).toBeLessThan(50_000)
    // The series near now keeps its offsets through the file's own VTIMEZONE.
    const event = parse(text).events.find((e) => e.summary.startsWith('2027'))?.event as ICAL.Event
    expect(occurrences(event, 3)).toEqual([
      '2027-03-26T08:00:00.000Z',
      '2027-03-27T08:00:00.000Z',
      '2027-03-28T07:00:00.000Z',
    ])
  })

  test('a weekly task due on dates is an all-day recurring event', async () => {
    const path = feedPath((await makeKey()).url)
    await create({ title: 'bins', due_date: '2026-12-01', recurrence: { rule: 'FREQ=WEEKLY', tz: 'Europe/Berlin' } })
    const [event] = parse(await feedText(path)).events
    expect(event && pick(event)).toMatchObject({
      start: '2026-12-01',
      end: '2026-12-02',
      zone: null,
      rrule: 'FREQ=WEEKLY',
    })
    expect(occurrences(event?.event as ICAL.Event, 3)).toEqual(['2026-12-01', '2026-12-08', '2026-12-15'])
  })

  test("a task's reminders are its event's alarms: an offset before each occurrence, an instant in UTC", async () => {
    const path = feedPath((await makeKey()).url)
    const reminders = [{ before: 'PT15M' }, { before: 'P1D' }, { at: '2026-12-06T20:00:00Z' }]
    await create({ title: 'dentist', due_date: '2026-12-07T09:00:00+01:00', reminders })
    await create({
      title: 'Water the plants',
      due_date: '2026-12-07T09:00:00+01:00',
      recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO', tz: 'Europe/Berlin' },
      reminders,
    })
    await create({ title: 'bins', due_date: '2026-12-08', reminders: [{ at: '2026-12-07T18:30:00+01:00' }] })
    await create({ title: 'no reminders', due_date: '2026-12-08' })
    const feed = await feedText(path)
    /** Each VALARM of the event, as its lines (unfolded). */
    const alarms = (summary: string) =>
      (
        feed
          .replace(/\r\n[ \t]/g, '')
          .split('BEGIN:VEVENT')
          .find((e) => e.includes(`\r\nSUMMARY:${summary}\r\n`)) ?? ''
      )
        .split('BEGIN:VALARM\r\n')
        .slice(1)
        .map((alarm) => alarm.split('\r\nEND:VALARM')[0])
    const display = (trigger: string, summary: string) => `ACTION:DISPLAY\r\n${trigger}\r\nDESCRIPTION:${summary}`
    expect(alarms('dentist')).toEqual([
      display('TRIGGER:-PT15M', 'dentist'),
      display('TRIGGER:-P1D', 'dentist'),
      display('TRIGGER;VALUE=DATE-TIME:20261206T200000Z', 'dentist'),
    ])
    // A timed series in a zone: its offsets repeat with each occurrence; the instant is left out.
    expect(alarms('Water the plants')).toEqual([
      display('TRIGGER:-PT15M', 'Water the plants'),
      display('TRIGGER:-P1D', 'Water the plants'),
    ])
    expect(alarms('bins')).toEqual([display('TRIGGER;VALUE=DATE-TIME:20261207T173000Z', 'bins')])
    expect(alarms('no reminders')).toEqual([])
    // ical.js reads them as alarms of their events.
    const parsed = parse(feed).events.map((e) => [e.summary, e.event.component.getAllSubcomponents('valarm').length])
    expect(parsed).toEqual([
      ['dentist', 3],
      ['Water the plants', 2],
      ['bins', 1],
      ['no reminders', 0],
    ])
  })

  test('a task that repeats after completion shows its current occurrence only', async () => {
    const path = feedPath((await makeKey()).url)
    await create({
      title: 'descale',
      due_date: '2026-12-01',
      recurrence: { rule: 'FREQ=DAILY;INTERVAL=3', tz: 'Europe/Berlin', from: 'completion' },
    })
    const [event] = parse(await feedText(path)).events
    expect(event && pick(event)).toMatchObject({ start: '2026-12-01', end: '2026-12-02', rrule: null })
  })
})

describe('rate limit', () => {
  test('fetches count per user after the key is checked: wrong keys use up nothing of it', async () => {
    api = await makeApp({ env: { RATE_LIMIT_PER_MINUTE: '2' } })
    const path = feedPath((await makeKey()).url)
    for (let i = 0; i < 3; i++)
      await expectProblem(await fetchFeed(`/api/alice/calendar.ics?key=${'B'.repeat(43)}`), 404, 'not_found')
    expect((await fetchFeed(path)).status).toBe(200)
    const second = await fetchFeed(path)
    expect(second.status).toBe(200)
    expect(second.headers.get('ratelimit')).toStartWith('"user";r=0;')
    const third = await fetchFeed(path)
    await expectProblem(third, 429, 'rate_limited')
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

describe('behind a proxy', () => {
  test('with TRUST_PROXY the feed URL takes the forwarded scheme and host', async () => {
    api = await makeApp({ env: { TRUST_PROXY: 'true' } })
    const res = await api.request('POST', '/api/alice/calendar/key', {
      token: alice,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'todo.example.com' },
    })
    const made = await json<CalendarKey>(res)
    expect(made.url).toBe(`https://todo.example.com/api/alice/calendar.ics?key=${made.key}`)
    expect(made.webcal_url).toBe(`webcal://todo.example.com/api/alice/calendar.ics?key=${made.key}`)
    const withPort = await api.request('POST', '/api/alice/calendar/key', {
      token: alice,
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'todo.example.com:8443' },
    })
    expect((await json<CalendarKey>(withPort)).url).toStartWith(
      'http://todo.example.com:8443/api/alice/calendar.ics?key=',
    )
  })
})
