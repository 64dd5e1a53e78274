import { createLogger } from '../../src/logger'
import { createReminderScheduler } from '../../src/modules/reminders/scheduler'
import type { TestApp } from './app'
import { stopAfterTest } from './cleanup'
import { sharedDatabase } from './database'
import { createTask } from './tasks'

/**
 * Reminders fire as on a serving process: the binary runs its own scheduler; in process, this
 * starts one on the run's database until the end of the test.
 */
export async function fireReminders(api: TestApp): Promise<void> {
  if (api.target !== 'in-process') return
  const scheduler = createReminderScheduler({ db: (await sharedDatabase()).database.db, logger: createLogger('error') })
  scheduler.start()
  stopAfterTest(() => scheduler.stop())
}

/**
 * One new task per title, each with a reminder that has fired: the reminders' ids, in the
 * titles' order, once the scheduler (the binary's, or one started here) fired them all.
 */
export async function firedReminders(api: TestApp, token: string, user: string, titles: string[]) {
  await fireReminders(api)
  // Far enough ahead that the create is done before it (a reminder set in the past never fires).
  const at = new Date(Date.now() + 1500).toISOString()
  const taskIds: number[] = []
  for (const title of titles) taskIds.push((await createTask(api, token, user, { title, reminders: [{ at }] })).id)
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const res = await api.request('GET', `/api/${encodeURIComponent(user)}/reminders?state=due&limit=500`, { token })
    const due = (await res.json()) as { id: number; task_id: number }[]
    const ids = taskIds.map((taskId) => due.find((r) => r.task_id === taskId)?.id)
    if (ids.every((id) => id !== undefined)) return ids as number[]
    await Bun.sleep(100)
  }
  throw new Error('the reminders did not fire within 10 s')
}
