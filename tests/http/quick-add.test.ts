import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'drizzle-orm'
import { expectProblem, expectStatus, json, makeApp, type TestApp, tokenFor } from '../support/app'
import { createList, dbRows } from '../support/lists'
import { tasksOf } from '../support/tasks'

// Quick add against the real clock (the binary has no other): each expectation is computed
// from the time of the request in the request's zone, before and after it, so a request that
// crosses midnight still has one right answer. Fixed-clock cases are in tests/quick-add-*.test.ts.

let api: TestApp
let alice: string

beforeEach(async () => {
  api = await makeApp()
  alice = await tokenFor('alice')
})

const quick = () => tasksOf(api, alice, 'alice').quick
type Body = Parameters<ReturnType<typeof quick>['post']>[0]
type Answer = NonNullable<Awaited<ReturnType<ReturnType<typeof quick>['post']>>['data']>
/** The 201 (a created task); the 200 of a dry run has a draft without an id. */
type Created = Extract<Answer, { task: { id: number } }>
type Preview = Exclude<Answer, Created>
const create = async (body: Body) => expectStatus(await quick().post(body), 201) as Created
const preview = async (body: Body) =>
  expectStatus(await quick().post(body, { query: { dry_run: true } }), 200) as Preview
const raw = (body: unknown, query = '', headers: Record<string, string> = {}) =>
  api.request('POST', `/api/alice/tasks/quick${query}`, { token: alice, body, headers })
const refusedText = async (res: Response) => {
  const problem = await expectProblem(res, 400, 'validation_failed')
  expect(problem.errors?.map((e) => e.field)).toEqual(['text'])
  return problem
}

const instant = (date: Temporal.PlainDate, time: string, tz: string) =>
  date
    .toZonedDateTime({ timeZone: tz, plainTime: Temporal.PlainTime.from(time) })
    .toInstant()
    .toString({
      fractionalSecondDigits: 3,
    })

/**
 * Runs `send` and checks that `actual(result)` is what `expected` computes from the time just
 * before or just after it, in `tz`.
 */
async function clockCase<R>(
  tz: string,
  send: () => Promise<R>,
  actual: (result: R) => unknown,
  expected: (now: Temporal.ZonedDateTime) => unknown,
) {
  const before = Temporal.Now.zonedDateTimeISO(tz)
  const result = await send()
  const after = Temporal.Now.zonedDateTimeISO(tz)
  expect([expected(before), expected(after)]).toContainEqual(actual(result))
  return result
}

const tasksInDb = () => dbRows<{ id: number }>(sql`select id from tasks where user_id = 'alice'`)

describe('POST /api/{user_id}/tasks/quick', () => {
  test('the example of the issue: title, due instant, recurrence, tag, priority, and the spans', async () => {
    const text = 'Pay rent every month on the 1st at 9am #home !high'
    const tz = 'Europe/Berlin'
    const res = await clockCase(
      tz,
      () => quick().post({ text, tz }),
      (r) => (r.data as Created | null)?.task.due_date,
      (now) => {
        const first = now.toPlainDate().with({ day: 1 })
        const today = now.day === 1 && now.hour < 9
        return instant(today ? first : first.add({ months: 1 }), '09:00', tz)
      },
    )
    const { task, spans } = expectStatus(res, 201) as Created
    expect(res.response.headers.get('location')).toBe(`/api/alice/tasks/${task.id}`)
    expect(res.response.headers.get('etag')).toBe(`"${task.version}"`)
    expect(task).toMatchObject({
      title: 'Pay rent',
      tags: ['home'],
      priority: 'high',
      recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=1', tz, from: 'due' },
      completed: false,
    })
    expect(task.next_due).not.toBeNull()
    expect(spans).toEqual([
      { field: 'recurrence', start: 9, end: 31, text: 'every month on the 1st', value: 'FREQ=MONTHLY;BYMONTHDAY=1' },
      { field: 'due', start: 32, end: 38, text: 'at 9am', value: task.due_date as string },
      { field: 'tag', start: 39, end: 44, text: '#home', value: 'home' },
      { field: 'priority', start: 45, end: 50, text: '!high', value: 'high' },
    ])
    for (const span of spans) expect(text.slice(span.start, span.end)).toBe(span.text)
    // It is an ordinary task from then on.
    expect(expectStatus(await tasksOf(api, alice, 'alice')({ id: task.id }).get(), 200)).toEqual(task)
  })

  test('a date and a time in tz are a due instant; the title loses them and the words that lead in', async () => {
    const tz = 'America/New_York'
    const { task, spans } = await clockCase(
      tz,
      () => create({ text: 'Call mom tomorrow at 9', tz }),
      (r) => r.task.due_date,
      (now) => instant(now.toPlainDate().add({ days: 1 }), '09:00', tz),
    )
    expect(task.title).toBe('Call mom')
    expect(spans.map((s) => [s.field, s.text])).toEqual([['due', 'tomorrow at 9']])
    const by = await create({ text: 'Send report due by 2030-03-05 17:00', tz })
    expect(by.task).toMatchObject({ title: 'Send report', due_date: '2030-03-05T22:00:00.000Z' })
    expect(by.spans[0]?.text).toBe('due by 2030-03-05 17:00')
  })

  test('without tz the text is read in UTC', async () => {
    await clockCase(
      'UTC',
      () => create({ text: 'Stand-up tomorrow at 9' }),
      (r) => r.task.due_date,
      (now) => instant(now.toPlainDate().add({ days: 1 }), '09:00', 'UTC'),
    )
  })

  test('a date without a time is a calendar date; ambiguous ones go forward, explicit past ones stay', async () => {
    expect((await create({ text: 'Dentist 2030-03-05' })).task.due_date).toBe('2030-03-05')
    expect((await create({ text: 'Backup yesterday', tz: 'Asia/Tokyo' })).task.due_date).toBe(
      Temporal.Now.plainDateISO('Asia/Tokyo').subtract({ days: 1 }).toString(),
    )
    // "friday" is the next Friday (today if it is Friday), never a past one.
    const tz = 'Europe/Berlin'
    await clockCase(
      tz,
      () => create({ text: 'Groceries on friday', tz }),
      (r) => [r.task.title, r.task.due_date],
      (now) => [
        'Groceries',
        now
          .toPlainDate()
          .add({ days: (5 - now.dayOfWeek + 7) % 7 })
          .toString(),
      ],
    )
  })

  test('recurrence phrases become RRULEs; the due date is the first occurrence from today in tz', async () => {
    const tz = 'Australia/Lord_Howe'
    const next = (now: Temporal.ZonedDateTime, ok: (d: Temporal.PlainDate) => boolean) => {
      let d = now.toPlainDate()
      while (!ok(d)) d = d.add({ days: 1 })
      return d.toString()
    }
    const cases: [string, string, (now: Temporal.ZonedDateTime) => string][] = [
      ['Water plants every day', 'FREQ=DAILY', (now) => now.toPlainDate().toString()],
      ['Stand-up every weekday', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', (now) => next(now, (d) => d.dayOfWeek <= 5)],
      ['Review every 2 weeks', 'FREQ=WEEKLY;INTERVAL=2', (now) => now.toPlainDate().toString()],
      [
        'Drinks every last friday',
        'FREQ=MONTHLY;BYDAY=-1FR',
        (now) => next(now, (d) => d.dayOfWeek === 5 && d.add({ days: 7 }).month !== d.month),
      ],
      ['Rent every month on the 1st', 'FREQ=MONTHLY;BYMONTHDAY=1', (now) => next(now, (d) => d.day === 1)],
      [
        'Gym every Monday and Thursday',
        'FREQ=WEEKLY;BYDAY=MO,TH',
        (now) => next(now, (d) => [1, 4].includes(d.dayOfWeek)),
      ],
    ]
    for (const [text, rule, due] of cases) {
      const { task, spans } = await clockCase(
        tz,
        () => create({ text, tz }),
        (r) => r.task.due_date,
        due,
      )
      expect(task.recurrence).toEqual({ rule, tz, from: 'due' })
      expect(spans.map((s) => s.field)).toEqual(['recurrence'])
      expect(task.title).toBe(text.slice(0, spans[0]?.start).trim())
    }
  })

  test('"every ..." with a time is due at that time; one that has passed today starts tomorrow', async () => {
    const tz = 'Europe/Berlin'
    const { task } = await clockCase(
      tz,
      () => create({ text: 'every day at 9am Meds', tz }),
      (r) => r.task.due_date,
      (now) => instant(now.hour < 9 ? now.toPlainDate() : now.toPlainDate().add({ days: 1 }), '09:00', tz),
    )
    expect(task).toMatchObject({ title: 'Meds', recurrence: { rule: 'FREQ=DAILY', tz, from: 'due' } })
    // The series keeps 09:00 in Berlin.
    const done = expectStatus(
      await tasksOf(api, alice, 'alice')({ id: task.id }).complete.patch({ completed: true }),
      200,
    )
    expect(
      Temporal.Instant.from(done.due_date as string)
        .toZonedDateTimeISO(tz)
        .toPlainTime()
        .toString(),
    ).toBe('09:00:00')
  })

  test('priorities: !low, !medium, !high, !1 high, !2 medium, !3 low; the first one counts', async () => {
    const cases: [string, string][] = [
      ['a !low', 'low'],
      ['a !Medium', 'medium'],
      ['a !HIGH', 'high'],
      ['a !1', 'high'],
      ['a !2', 'medium'],
      ['a !3', 'low'],
      ['a', 'medium'],
    ]
    for (const [text, priority] of cases) {
      const { task } = await create({ text })
      expect([task.title, task.priority]).toEqual(['a', priority])
    }
    const twice = await create({ text: 'a !low !high' })
    expect([twice.task.title, twice.task.priority]).toEqual(['a !high', 'low'])
    // Not a priority: inside a word, unknown, or followed by more of a word.
    expect((await create({ text: 'wow!high !urgent !1st' })).task).toMatchObject({
      title: 'wow!high !urgent !1st',
      priority: 'medium',
    })
  })

  test('tags: #word at a word start, trailing full stop dropped, duplicates once; C#, #123 and # stay', async () => {
    const { task, spans } = await create({ text: 'Learn C# for issue #123 # #dev #Dev #work/q3.' })
    expect(task.title).toBe('Learn C# for issue #123 # .')
    expect(task.tags).toEqual(['dev', 'work/q3'])
    expect(spans.map((s) => s.text)).toEqual(['#dev', '#Dev', '#work/q3'])
    expect(spans.map((s) => s.value)).toEqual(['dev', 'dev', 'work/q3'])
  })

  test('more than 20 tags, or a tag longer than 50 characters, is a 400 naming text', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `#t${i}`).join(' ')
    expect((await create({ text: `ok ${twenty}` })).task.tags).toHaveLength(20)
    const problem = await refusedText(await raw({ text: `too many ${twenty} #t20` }))
    expect(problem.detail).toContain('at most 20')
    await refusedText(await raw({ text: `long #${'x'.repeat(51)}` }))
    expect(await tasksInDb()).toHaveLength(1)
  })

  test('@list: the longest of your list names, in any case; an unknown @word stays in the title', async () => {
    const home = await createList(api, alice, 'alice', { name: 'Home' })
    const improvement = await createList(api, alice, 'alice', { name: 'Home Improvement' })
    const a = await create({ text: 'Fix shelf @home improvement tomorrow' })
    expect(a.task).toMatchObject({ title: 'Fix shelf', list_id: improvement.id })
    expect(a.spans.find((s) => s.field === 'list')).toMatchObject({
      text: '@home improvement',
      value: 'Home Improvement',
    })
    const b = await create({ text: '@HOME improvements' })
    expect(b.task).toMatchObject({ title: 'improvements', list_id: home.id })
    const c = await create({ text: 'Write to me@example.com @nowhere @Homer' })
    expect(c.task.title).toBe('Write to me@example.com @nowhere @Homer')
    expect(c.spans).toEqual([])
    const inbox = (
      await json<{ id: number; is_default: boolean }[]>(await api.request('GET', '/api/alice/lists', { token: alice }))
    ).find((l) => l.is_default)
    expect(c.task.list_id).toBe(inbox?.id as number)
    // Another user's list is not one of yours.
    const bob = await tokenFor('bob')
    await createList(api, bob, 'bob', { name: 'Secret' })
    expect((await create({ text: 'x @secret' })).task.title).toBe('x @secret')
  })

  test('a text that leaves no title is a 400 naming text, and creates nothing', async () => {
    for (const text of ['#home !high tomorrow', 'every day', '  \u200f #a \u200f ', 'due by friday, #x'])
      await refusedText(await raw({ text, tz: 'UTC' }))
    expect(await tasksInDb()).toEqual([])
  })

  test('?dry_run=true answers 200 with what would be created, creates nothing and keeps no key', async () => {
    const list = await createList(api, alice, 'alice', { name: 'Bills' })
    const body = { text: 'Pay rent every month on the 1st #home !1 @bills', tz: 'Europe/Berlin' }
    const seqBefore = await dbRows<{ sync_seq: number }>(sql`select sync_seq from users where id = 'alice'`)
    const dry = await preview(body)
    expect(dry.task).toMatchObject({
      title: 'Pay rent',
      priority: 'high',
      tags: ['home'],
      list_id: list.id,
      recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=1', tz: 'Europe/Berlin', from: 'due' },
    })
    expect(dry.task.due_date).toMatch(/^\d{4}-\d{2}-01$/)
    expect(dry.task.next_due).toBe(
      Temporal.PlainDate.from(dry.task.due_date as string)
        .add({ months: 1 })
        .toString(),
    )
    expect(await tasksInDb()).toEqual([])
    expect(await dbRows(sql`select sync_seq from users where id = 'alice'`)).toEqual(seqBefore)
    // With a key: not kept, so the real request may follow with the same key.
    const key = { 'idempotency-key': `k-${crypto.randomUUID()}` }
    expect((await raw(body, '?dry_run=true', key)).status).toBe(200)
    expect(await dbRows(sql`select key from idempotency_keys where user_id = 'alice'`)).toEqual([])
    const real = await raw(body, '', key)
    expect(real.status).toBe(201)
    const created = await json<{ task: { id: number } }>(real)
    // A retry of the real one replays it.
    const again = await raw(body, '', key)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect((await json<{ task: { id: number } }>(again)).task.id).toBe(created.task.id)
    expect(await tasksInDb()).toHaveLength(1)
    // dry_run=false creates.
    const notDry = expectStatus(await quick().post({ text: 'x' }, { query: { dry_run: false } }), 201) as Created
    expect(notDry.task.id).toBeGreaterThan(created.task.id)
  })

  test('a repeated dry_run is a 400 naming it, and creates nothing: which one was meant is unknown', async () => {
    for (const query of ['?dry_run=true&dry_run=false', '?dry_run=false&dry_run=true', '?dry_run=true&dry_run=true']) {
      const problem = await expectProblem(await raw({ text: 'Buy milk' }, query), 400, 'validation_failed')
      expect(problem.errors?.map((e) => e.field)).toEqual(['dry_run'])
    }
    expect(await tasksInDb()).toEqual([])
  })

  test('spans count UTF-16 code units; emoji, accents and inner bidirectional marks stay in the title', async () => {
    const text = '🙂 Pay «café» #bills 🏠 !low'
    const { task, spans } = await create({ text })
    expect(task.title).toBe('🙂 Pay «café» 🏠')
    for (const span of spans) expect(text.slice(span.start, span.end)).toBe(span.text)
    expect(spans).toEqual([
      { field: 'tag', start: 14, end: 20, text: '#bills', value: 'bills' },
      { field: 'priority', start: 24, end: 28, text: '!low', value: 'low' },
    ])
    // A right-to-left text with marks: those at the title's ends or beside spaces go with the
    // spaces; one inside a word stays.
    const rtl = await create({ text: '\u200fשלם \u200f חש\u200dבון \u200f#בית\u200f' })
    expect(rtl.task).toMatchObject({ title: 'שלם חש\u200dבון', tags: ['בית'] })
  })

  test('input limits: 1 to 1000 characters, no lone surrogates or U+0000, known fields only, a real zone', async () => {
    expect((await raw({ text: `${'🙂'.repeat(250)} #a` })).status).toBe(201)
    await refusedText(await raw({ text: 'x'.repeat(1001) }))
    // 1000 characters that leave a title longer than 255.
    expect((await refusedText(await raw({ text: 'x'.repeat(1000) }))).detail).toContain('255')
    await refusedText(await raw({ text: '' }))
    await refusedText(await raw({ text: 'a\ud800' }))
    await refusedText(await raw({ text: 'a\u0000' }))
    await expectProblem(await raw({ text: 'a', tz: '+05:00' }), 400, 'validation_failed')
    await expectProblem(await raw({ text: 'a', due_date: '2030-01-01' }), 400, 'validation_failed')
    await expectProblem(await raw({ text: 'a' }, '?dry_run=maybe'), 400, 'validation_failed')
    await expectProblem(await raw({ text: 'x'.repeat(70 * 1024) }), 413, 'payload_too_large')
    expect(await tasksInDb()).toHaveLength(1)
  })

  test('`quick` is a path of its own, never a task id', async () => {
    const { task } = await create({ text: 'Buy milk' })
    expect(task.title).toBe('Buy milk')
    // Other methods of /tasks/quick are /tasks/:id with an id that names no task.
    await expectProblem(await api.request('GET', '/api/alice/tasks/quick', { token: alice }), 404, 'not_found')
    await expectProblem(
      await api.request('PATCH', '/api/alice/tasks/quick', { token: alice, body: { title: 'x' } }),
      404,
      'not_found',
    )
    await expectProblem(
      await api.request('POST', '/api/alice/tasks/quick/move', { token: alice, body: {} }),
      404,
      'not_found',
    )
    // The usual guards: a token, and only your own tasks.
    await expectProblem(
      await api.request('POST', '/api/alice/tasks/quick', { body: { text: 'x' } }),
      401,
      'unauthorized',
    )
    await expectProblem(
      await api.request('POST', '/api/bob/tasks/quick', { token: alice, body: { text: 'x' } }),
      403,
      'forbidden',
    )
    const me = await api.request('POST', '/api/me/tasks/quick', { token: alice, body: { text: 'via me' } })
    expect(me.status).toBe(201)
  })

  test('the OpenAPI document describes the route and its models by name', async () => {
    const doc = await json<{
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>
      >
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }>(await api.request('GET', '/swagger/json'))
    const op = doc.paths['/api/{user_id}/tasks/quick']?.post
    expect(op?.responses[201]?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/QuickAddCreated',
    })
    expect(op?.responses[200]?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/QuickAddPreview',
    })
    expect(Object.keys(doc.components.schemas.QuickAddSpan?.properties ?? {})).toEqual([
      'field',
      'start',
      'end',
      'text',
      'value',
    ])
    expect(doc.components.schemas.QuickAdd?.properties).toHaveProperty('tz')
  })
})
