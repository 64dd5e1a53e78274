import { describe, expect, test } from 'bun:test'
import { expectStatus, makeInProcessApp, tokenFor } from './support/app'

// The app's clock (`now` in createApp's deps) is the one quick add reads "today" and "at 9" by.
// In process only: the binary has the system clock; tests/http/quick-add.test.ts checks it there.

async function quickAt(now: string) {
  const api = await makeInProcessApp({ deps: { now: () => new Date(now) } })
  const token = await tokenFor('alice')
  return (text: string, tz: string) =>
    api
      .as(token)
      .api({ user_id: 'alice' })
      .tasks.quick.post({ text, tz })
      .then((r) => expectStatus(r, 201).task)
}

describe('quick add reads dates by the app clock, in the zone of the request', () => {
  test('"tomorrow at 9" the day before the spring change is 09:00 summer time', async () => {
    // 11:00 CET on 28 March 2026; 29 March is on CEST (+02:00).
    const quick = await quickAt('2026-03-28T10:00:00Z')
    expect((await quick('Call mom tomorrow at 9', 'Europe/Berlin')).due_date).toBe('2026-03-29T07:00:00.000Z')
    expect((await quick('Call mom tomorrow at 9', 'America/New_York')).due_date).toBe('2026-03-29T13:00:00.000Z')
  })

  test('"tomorrow at 9" the day before the autumn change is 09:00 winter time', async () => {
    const quick = await quickAt('2026-10-24T10:00:00Z')
    expect((await quick('Call mom tomorrow at 9', 'Europe/Berlin')).due_date).toBe('2026-10-25T08:00:00.000Z')
  })

  test('a recurring task starts by the same clock and keeps its time across the change', async () => {
    const quick = await quickAt('2026-03-28T10:00:00Z')
    const task = await quick('Meds every day at 9am', 'Europe/Berlin')
    expect(task.due_date).toBe('2026-03-29T07:00:00.000Z')
    expect(task.next_due).toBe('2026-03-30T07:00:00.000Z')
    const weekly = await quick('Review every other week on tuesday', 'Europe/Berlin')
    expect([weekly.due_date, weekly.next_due]).toEqual(['2026-03-31', '2026-04-14'])
  })

  test('a series whose first time falls in the spring-forward gap moves that one forward, not the series', async () => {
    // 02:30 does not exist on 29 March 2026 in Berlin (02:00 -> 03:00) nor on 8 March 2026 in
    // New York: that occurrence is 03:30, and the series stays at 02:30 from the next day on.
    const cases = [
      [
        'Europe/Berlin',
        '2026-03-28T10:00:00Z',
        '2026-03-29T01:30:00.000Z',
        '2026-03-30T00:30:00.000Z',
        '2026-03-31T00:30:00.000Z',
      ],
      [
        'America/New_York',
        '2026-03-07T20:00:00Z',
        '2026-03-08T07:30:00.000Z',
        '2026-03-09T06:30:00.000Z',
        '2026-03-10T06:30:00.000Z',
      ],
    ] as const
    for (const [tz, now, first, second, third] of cases) {
      const api = await makeInProcessApp({ deps: { now: () => new Date(now) } })
      const user = api.as(await tokenFor('alice')).api({ user_id: 'alice' })
      const body = { text: 'Meds every day at 2:30am', tz }
      const preview = expectStatus(await user.tasks.quick.post(body, { query: { dry_run: true } }), 200).task
      expect([preview.due_date, preview.next_due]).toEqual([first, second])
      const task = expectStatus(await user.tasks.quick.post(body), 201).task
      expect([task.due_date, task.next_due]).toEqual([first, second])
      const id = 'id' in task ? task.id : 0
      const done = expectStatus(await user.tasks({ id }).complete.patch({ completed: true }), 200)
      expect([done.due_date, done.next_due]).toEqual([second, third])
    }
  })

  test('"today" is the day of the zone: 23:00 UTC is already tomorrow in Tokyo', async () => {
    const quick = await quickAt('2026-06-30T23:00:00Z')
    expect((await quick('x today', 'Asia/Tokyo')).due_date).toBe('2026-07-01')
    expect((await quick('x today', 'UTC')).due_date).toBe('2026-06-30')
  })
})
