// Calls every route of the API through an Eden Treaty client typed by the server's own `App`
// type. CI compiles it (tsc -p clients/eden) and the test suite runs it against the server.
import type { Treaty } from '@elysiajs/eden'
import type { App } from '../../src/app'

export interface Account {
  email: string
  password: string
  name: string
}

type Client = Treaty.Create<App>

/** Walks through every route once; answers each route's status, keyed `METHOD path`. */
export async function everyRoute(api: Client, account: Account, tokens: { access?: string }) {
  const statuses: Record<string, number> = {}
  const record = (key: string, result: { status: number }) => {
    statuses[key] = result.status
  }
  const auth = () => ({ headers: { authorization: `Bearer ${tokens.access}` } })

  record('GET /health', await api.health.get())
  record('GET /ready', await api.ready.get())

  const registered = await api.api.auth.register.post(account)
  record('POST /api/auth/register', registered)
  if (registered.error) throw new Error(`register: ${registered.error.value.detail}`)
  const login = await api.api.auth.login.post({ email: account.email, password: account.password })
  record('POST /api/auth/login', login)
  if (login.error) throw new Error(`login: ${login.error.value.detail}`)
  tokens.access = login.data.token
  const user = api.api({ user_id: login.data.user.id })

  record('GET /api/auth/me', await api.api.auth.me.get(auth()))
  record('PATCH /api/auth/me', await api.api.auth.me.patch({ name: `${account.name} II` }, auth()))

  const created = await user.tasks.post(
    { title: 'Water the plants', priority: 'high', tags: ['home'], due_date: '2026-12-01' },
    auth(),
  )
  record('POST /api/{user_id}/tasks', created)
  if (created.error) throw new Error(`create: ${created.error.value.detail}`)
  const list = await user.tasks.get({ ...auth(), query: { status: 'pending', sort: 'due_date', limit: 10 } })
  record('GET /api/{user_id}/tasks', list)
  if (list.data?.[0]?.title !== 'Water the plants') throw new Error('the list does not hold the new task')
  record('GET /api/{user_id}/tasks/stats', await user.tasks.stats.get(auth()))
  record('GET /api/{user_id}/tags', await user.tags.get(auth()))
  const task = user.tasks({ id: created.data.id })
  record('GET /api/{user_id}/tasks/{id}', await task.get(auth()))
  record('PUT /api/{user_id}/tasks/{id}', await task.put({ title: 'Water the roses' }, auth()))
  record('PATCH /api/{user_id}/tasks/{id}', await task.patch({ description: null }, auth()))
  const completed = await task.complete.patch({ completed: true }, auth())
  record('PATCH /api/{user_id}/tasks/{id}/complete', completed)
  if (completed.data?.completed !== true) throw new Error('the task is not complete')
  const recurring = await user.tasks.post(
    { title: 'Pay rent', due_date: '2026-12-01', recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=1', tz: 'UTC' } },
    auth(),
  )
  if (recurring.error) throw new Error(`recurring: ${recurring.error.value.detail}`)
  const rent = user.tasks({ id: recurring.data.id })
  const paid = await rent.complete.patch({}, auth())
  // Eden turns date-like strings in answers into Dates.
  const dayOf = (value: unknown) => new Date(value as string).toISOString().slice(0, 10)
  if (dayOf(paid.data?.due_date) !== '2027-01-01') throw new Error('the recurring task did not move on')
  const history = await rent.completions.get(auth())
  record('GET /api/{user_id}/tasks/{id}/completions', history)
  if (dayOf(history.data?.[0]?.due) !== '2026-12-01') throw new Error('the completion is not listed')
  const sub = await user.tasks.post({ title: 'Roses', parent_id: created.data.id }, auth())
  if (sub.error) throw new Error(`subtask: ${sub.error.value.detail}`)
  const quick = await user.tasks.quick.post({ text: 'Pay rent every month on the 1st #home !high', tz: 'UTC' }, auth())
  record('POST /api/{user_id}/tasks/quick', quick)
  if (quick.data?.task.title !== 'Pay rent') throw new Error('quick add did not read the title')

  // Lists: create, read, rename, reorder, move the task there, delete with its tasks.
  const newList = await user.lists.post({ name: 'Garden', color: '#22c55e' }, auth())
  record('POST /api/{user_id}/lists', newList)
  if (newList.error) throw new Error(`create list: ${newList.error.value.detail}`)
  const lists = await user.lists.get(auth())
  record('GET /api/{user_id}/lists', lists)
  const inbox = lists.data?.find((l) => l.is_default)
  if (!inbox) throw new Error('no Inbox')
  const garden = user.lists({ list_id: newList.data.id })
  record('GET /api/{user_id}/lists/{list_id}', await garden.get(auth()))
  record('PATCH /api/{user_id}/lists/{list_id}', await garden.patch({ name: 'Backyard' }, auth()))
  record('POST /api/{user_id}/lists/{list_id}/move', await garden.move.post({ before_id: inbox.id }, auth()))
  const feed = await user.changes.get({ ...auth(), query: {} })
  record('GET /api/{user_id}/changes', feed)
  if (!feed.data?.changes.length) throw new Error('the first sync found nothing')
  const queued = await user.batch.post(
    {
      operations: [
        { op: 'create', type: 'task', temp_id: 'seeds', data: { title: 'Buy seeds', list_id: newList.data.id } },
        { op: 'complete', type: 'task', id: '$seeds', data: { completed: true } },
        { op: 'delete', type: 'task', id: '$seeds' },
      ],
    },
    auth(),
  )
  record('POST /api/{user_id}/batch', queued)
  if (!queued.data?.temp_ids.seeds) throw new Error('the batch did not map its temp id')
  const moved = await task.move.post({ list_id: newList.data.id }, auth())
  record('POST /api/{user_id}/tasks/{id}/move', moved)
  if (moved.data?.subtask_count !== 1) throw new Error('the moved task lost its subtask')
  record(
    'DELETE /api/{user_id}/lists/{list_id}',
    await garden.delete(undefined, { ...auth(), query: { tasks: 'move' } }),
  )
  record('DELETE /api/{user_id}/tasks/{id}', await task.delete(undefined, auth()))
  const gone = await task.get(auth())
  // A 304 is an Eden error too (without a body): the status tells them apart.
  if (gone.status !== 404 || !gone.error?.value || gone.error.value.code !== 'not_found')
    throw new Error('a deleted task is still there')

  // Trash: the deleted task is there with its subtask; restore it, delete it again, purge it.
  const trash = await user.trash.get({ ...auth(), query: { limit: 10 } })
  record('GET /api/{user_id}/trash', trash)
  if (trash.data?.[0]?.id !== created.data.id || trash.data[0].subtask_total !== 1)
    throw new Error('the trash lacks the task')
  const trashed = user.trash({ id: created.data.id })
  const restored = await trashed.restore.post(undefined, auth())
  record('POST /api/{user_id}/trash/{id}/restore', restored)
  if (restored.data?.subtask_count !== 1) throw new Error('the restored task lost its subtask')
  await task.delete(undefined, auth())
  record('DELETE /api/{user_id}/trash/{id}', await trashed.delete(undefined, auth()))
  record('DELETE /api/{user_id}/trash', await user.trash.delete(undefined, auth()))

  // Sync: the change feed, and the live stream opened with a ticket as a browser would.
  const ticket = await api.api.auth['stream-ticket'].post(undefined, auth())
  record('POST /api/auth/stream-ticket', ticket)
  if (ticket.error) throw new Error(`stream ticket: ${ticket.error.value.detail}`)
  const stopStream = new AbortController()
  const events = await user.events.get({ query: { ticket: ticket.data.ticket }, fetch: { signal: stopStream.signal } })
  record('GET /api/{user_id}/events', events)
  stopStream.abort()
  await events.response.body?.cancel().catch(() => {})

  // Calendar: a feed key, the feed fetched with it as a calendar app does, the key's state, revoking it.
  const calendarKey = await user.calendar.key.post(undefined, auth())
  record('POST /api/{user_id}/calendar/key', calendarKey)
  if (calendarKey.error) throw new Error(`calendar key: ${calendarKey.error.value.detail}`)
  const calendarFeed = await user['calendar.ics'].get({ query: { key: calendarKey.data.key } })
  record('GET /api/{user_id}/calendar.ics', calendarFeed)
  if (!String(calendarFeed.data).startsWith('BEGIN:VCALENDAR')) throw new Error('the calendar feed is not iCalendar')
  const keyState = await user.calendar.key.get(auth())
  record('GET /api/{user_id}/calendar/key', keyState)
  if (keyState.data?.exists !== true) throw new Error('the calendar key is not there')
  record('DELETE /api/{user_id}/calendar/key', await user.calendar.key.delete(undefined, auth()))
  // Reminders: one fires a second from now (the server's scheduler); acknowledge it.
  const reminded = await user.tasks.post(
    { title: 'Call the plumber', reminders: [{ at: new Date(Date.now() + 1000).toISOString() }] },
    auth(),
  )
  if (reminded.error) throw new Error(`reminder: ${reminded.error.value.detail}`)
  let due = await user.reminders.get({ ...auth(), query: { state: 'due' } })
  for (let tries = 0; !due.data?.length && tries < 50; tries++) {
    await Bun.sleep(200)
    due = await user.reminders.get({ ...auth(), query: { state: 'due' } })
  }
  record('GET /api/{user_id}/reminders', due)
  const fired = due.data?.[0]
  if (fired?.task_id !== reminded.data.id) throw new Error('the reminder did not fire')
  record('POST /api/{user_id}/reminders/{id}/ack', await user.reminders({ id: fired.id }).ack.post(undefined, auth()))

  const refreshed = await api.api.auth.refresh.post({ refresh_token: login.data.refresh_token })
  record('POST /api/auth/refresh', refreshed)
  if (refreshed.error) throw new Error(`refresh: ${refreshed.error.value.detail}`)
  tokens.access = refreshed.data.token
  record(
    'POST /api/auth/password',
    await api.api.auth.password.post(
      { current_password: account.password, new_password: `${account.password}!` },
      auth(),
    ),
  )
  record(
    'POST /api/auth/logout',
    await api.api.auth.logout.post({ refresh_token: refreshed.data.refresh_token }, auth()),
  )
  record('POST /api/auth/logout-all', await api.api.auth['logout-all'].post(undefined, auth()))
  return statuses
}
