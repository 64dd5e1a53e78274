// Calls every route of the API through the generated client. CI compiles it as a frontend would
// (tsc -p clients/typescript) and the test suite runs it against the server.
import type { TodoClient } from './index'

export interface Account {
  email: string
  password: string
  name: string
}

/** Walks through every route once; answers each route's status, keyed `METHOD path`. */
export async function everyRoute(client: TodoClient, account: Account, tokens: { access?: string }) {
  const statuses: Record<string, number> = {}
  const record = (key: string, response: Response) => {
    statuses[key] = response.status
  }

  record('GET /health', (await client.GET('/health')).response)
  record('GET /ready', (await client.GET('/ready')).response)

  const registered = await client.POST('/api/auth/register', { body: account })
  record('POST /api/auth/register', registered.response)
  if (!registered.data) throw new Error(`register: ${registered.error?.detail}`)
  const login = await client.POST('/api/auth/login', { body: { email: account.email, password: account.password } })
  record('POST /api/auth/login', login.response)
  if (!login.data) throw new Error(`login: ${login.error?.detail}`)
  tokens.access = login.data.token
  const user_id = login.data.user.id

  record('GET /api/auth/me', (await client.GET('/api/auth/me')).response)
  record('PATCH /api/auth/me', (await client.PATCH('/api/auth/me', { body: { name: `${account.name} II` } })).response)

  const path = { user_id }
  const created = await client.POST('/api/{user_id}/tasks', {
    params: { path },
    body: { title: 'Water the plants', priority: 'high', tags: ['home'], due_date: '2026-12-01' },
  })
  record('POST /api/{user_id}/tasks', created.response)
  if (!created.data) throw new Error(`create: ${created.error?.detail}`)
  const task = { ...path, id: created.data.id }
  const list = await client.GET('/api/{user_id}/tasks', {
    params: { path, query: { status: 'pending', priority: ['high'], sort: 'due_date', limit: 10 } },
  })
  record('GET /api/{user_id}/tasks', list.response)
  if (list.data?.[0]?.title !== 'Water the plants') throw new Error('the list does not hold the new task')
  record(
    'GET /api/{user_id}/tasks/stats',
    (await client.GET('/api/{user_id}/tasks/stats', { params: { path } })).response,
  )
  record('GET /api/{user_id}/tags', (await client.GET('/api/{user_id}/tags', { params: { path } })).response)
  record(
    'GET /api/{user_id}/tasks/{id}',
    (await client.GET('/api/{user_id}/tasks/{id}', { params: { path: task } })).response,
  )
  record(
    'PUT /api/{user_id}/tasks/{id}',
    (await client.PUT('/api/{user_id}/tasks/{id}', { params: { path: task }, body: { title: 'Water the roses' } }))
      .response,
  )
  record(
    'PATCH /api/{user_id}/tasks/{id}',
    (await client.PATCH('/api/{user_id}/tasks/{id}', { params: { path: task }, body: { description: null } })).response,
  )
  const completed = await client.PATCH('/api/{user_id}/tasks/{id}/complete', {
    params: { path: task },
    body: { completed: true },
  })
  record('PATCH /api/{user_id}/tasks/{id}/complete', completed.response)
  if (completed.data?.completed !== true) throw new Error('the task is not complete')
  const recurring = await client.POST('/api/{user_id}/tasks', {
    params: { path },
    body: { title: 'Pay rent', due_date: '2026-12-01', recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=1', tz: 'UTC' } },
  })
  if (!recurring.data) throw new Error(`recurring: ${recurring.error?.detail}`)
  const rent = { user_id: path.user_id, id: recurring.data.id }
  const paid = await client.PATCH('/api/{user_id}/tasks/{id}/complete', { params: { path: rent }, body: {} })
  if (paid.data?.due_date !== '2027-01-01') throw new Error('the recurring task did not move on')
  const history = await client.GET('/api/{user_id}/tasks/{id}/completions', { params: { path: rent, query: {} } })
  record('GET /api/{user_id}/tasks/{id}/completions', history.response)
  if (history.data?.[0]?.due !== '2026-12-01') throw new Error('the completion is not listed')
  const sub = await client.POST('/api/{user_id}/tasks', {
    params: { path },
    body: { title: 'Roses', parent_id: task.id },
  })
  if (!sub.data) throw new Error(`subtask: ${sub.error?.detail}`)
  const quick = await client.POST('/api/{user_id}/tasks/quick', {
    params: { path, query: {} },
    body: { text: 'Pay rent every month on the 1st #home !high', tz: 'UTC' },
  })
  record('POST /api/{user_id}/tasks/quick', quick.response)
  if (quick.data?.task.title !== 'Pay rent') throw new Error('quick add did not read the title')

  // Lists: create, read, rename, reorder, move the task there, delete with its tasks.
  const newList = await client.POST('/api/{user_id}/lists', {
    params: { path },
    body: { name: 'Garden', color: '#22c55e' },
  })
  record('POST /api/{user_id}/lists', newList.response)
  if (!newList.data) throw new Error(`create list: ${newList.error?.detail}`)
  const lists = await client.GET('/api/{user_id}/lists', { params: { path } })
  record('GET /api/{user_id}/lists', lists.response)
  const inbox = lists.data?.find((l) => l.is_default)
  if (!inbox) throw new Error('no Inbox')
  const listPath = { ...path, list_id: newList.data.id }
  record(
    'GET /api/{user_id}/lists/{list_id}',
    (await client.GET('/api/{user_id}/lists/{list_id}', { params: { path: listPath } })).response,
  )
  record(
    'PATCH /api/{user_id}/lists/{list_id}',
    (await client.PATCH('/api/{user_id}/lists/{list_id}', { params: { path: listPath }, body: { name: 'Backyard' } }))
      .response,
  )
  record(
    'POST /api/{user_id}/lists/{list_id}/move',
    (
      await client.POST('/api/{user_id}/lists/{list_id}/move', {
        params: { path: listPath },
        body: { before_id: inbox.id },
      })
    ).response,
  )
  const feed = await client.GET('/api/{user_id}/changes', { params: { path, query: {} } })
  record('GET /api/{user_id}/changes', feed.response)
  if (!feed.data?.changes.length) throw new Error('the first sync found nothing')
  const queued = await client.POST('/api/{user_id}/batch', {
    params: { path },
    body: {
      operations: [
        { op: 'create', type: 'task', temp_id: 'seeds', data: { title: 'Buy seeds', list_id: newList.data.id } },
        { op: 'complete', type: 'task', id: '$seeds', data: { completed: true } },
        { op: 'delete', type: 'task', id: '$seeds' },
      ],
    },
  })
  record('POST /api/{user_id}/batch', queued.response)
  if (!queued.data?.temp_ids.seeds) throw new Error('the batch did not map its temp id')
  const moved = await client.POST('/api/{user_id}/tasks/{id}/move', {
    params: { path: task },
    body: { list_id: newList.data.id },
  })
  record('POST /api/{user_id}/tasks/{id}/move', moved.response)
  if (moved.data?.subtask_count !== 1) throw new Error('the moved task lost its subtask')
  record(
    'DELETE /api/{user_id}/lists/{list_id}',
    (await client.DELETE('/api/{user_id}/lists/{list_id}', { params: { path: listPath, query: { tasks: 'move' } } }))
      .response,
  )
  record(
    'DELETE /api/{user_id}/tasks/{id}',
    (await client.DELETE('/api/{user_id}/tasks/{id}', { params: { path: task } })).response,
  )
  const gone = await client.GET('/api/{user_id}/tasks/{id}', { params: { path: task } })
  if (gone.error?.code !== 'not_found') throw new Error('a deleted task is still there')

  // Trash: the deleted task is there with its subtask; restore it, delete it again, purge it.
  const trash = await client.GET('/api/{user_id}/trash', { params: { path, query: { limit: 10 } } })
  record('GET /api/{user_id}/trash', trash.response)
  if (trash.data?.[0]?.id !== task.id || trash.data[0].subtask_total !== 1) throw new Error('the trash lacks the task')
  const restored = await client.POST('/api/{user_id}/trash/{id}/restore', { params: { path: task } })
  record('POST /api/{user_id}/trash/{id}/restore', restored.response)
  if (restored.data?.subtask_count !== 1) throw new Error('the restored task lost its subtask')
  await client.DELETE('/api/{user_id}/tasks/{id}', { params: { path: task } })
  record(
    'DELETE /api/{user_id}/trash/{id}',
    (await client.DELETE('/api/{user_id}/trash/{id}', { params: { path: task } })).response,
  )
  record('DELETE /api/{user_id}/trash', (await client.DELETE('/api/{user_id}/trash', { params: { path } })).response)

  // Sync: the change feed, and the live stream opened with a ticket as a browser would.
  const ticket = await client.POST('/api/auth/stream-ticket')
  record('POST /api/auth/stream-ticket', ticket.response)
  if (!ticket.data) throw new Error(`stream ticket: ${ticket.error?.detail}`)
  const events = await client.GET('/api/{user_id}/events', {
    params: { path, query: { ticket: ticket.data.ticket } },
    parseAs: 'stream',
  })
  record('GET /api/{user_id}/events', events.response)
  await events.response.body?.cancel()

  // Calendar: a feed key, the feed fetched with it as a calendar app does, the key's state, revoking it.
  const calendarKey = await client.POST('/api/{user_id}/calendar/key', { params: { path } })
  record('POST /api/{user_id}/calendar/key', calendarKey.response)
  if (!calendarKey.data) throw new Error(`calendar key: ${calendarKey.error?.detail}`)
  const calendarFeed = await client.GET('/api/{user_id}/calendar.ics', {
    params: { path, query: { key: calendarKey.data.key } },
    parseAs: 'text',
  })
  record('GET /api/{user_id}/calendar.ics', calendarFeed.response)
  if (!String(calendarFeed.data).startsWith('BEGIN:VCALENDAR')) throw new Error('the calendar feed is not iCalendar')
  const keyState = await client.GET('/api/{user_id}/calendar/key', { params: { path } })
  record('GET /api/{user_id}/calendar/key', keyState.response)
  if (keyState.data?.exists !== true) throw new Error('the calendar key is not there')
  record(
    'DELETE /api/{user_id}/calendar/key',
    (await client.DELETE('/api/{user_id}/calendar/key', { params: { path } })).response,
  )
  // Reminders: one fires a second from now (the server's scheduler); acknowledge it.
  const reminded = await client.POST('/api/{user_id}/tasks', {
    params: { path },
    body: { title: 'Call the plumber', reminders: [{ at: new Date(Date.now() + 1000).toISOString() }] },
  })
  if (!reminded.data) throw new Error(`reminder: ${reminded.error?.detail}`)
  const dueReminders = () => client.GET('/api/{user_id}/reminders', { params: { path, query: { state: 'due' } } })
  let due = await dueReminders()
  for (let tries = 0; !due.data?.length && tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    due = await dueReminders()
  }
  record('GET /api/{user_id}/reminders', due.response)
  const fired = due.data?.[0]
  if (fired?.task_id !== reminded.data.id) throw new Error('the reminder did not fire')
  const acked = await client.POST('/api/{user_id}/reminders/{id}/ack', {
    params: { path: { user_id: path.user_id, id: fired.id } },
  })
  record('POST /api/{user_id}/reminders/{id}/ack', acked.response)

  const refreshed = await client.POST('/api/auth/refresh', { body: { refresh_token: login.data.refresh_token } })
  record('POST /api/auth/refresh', refreshed.response)
  if (!refreshed.data) throw new Error(`refresh: ${refreshed.error?.detail}`)
  tokens.access = refreshed.data.token
  record(
    'POST /api/auth/password',
    (
      await client.POST('/api/auth/password', {
        body: { current_password: account.password, new_password: `${account.password}!` },
      })
    ).response,
  )
  record(
    'POST /api/auth/logout',
    (await client.POST('/api/auth/logout', { body: { refresh_token: refreshed.data.refresh_token } })).response,
  )
  record('POST /api/auth/logout-all', (await client.POST('/api/auth/logout-all')).response)
  return statuses
}
