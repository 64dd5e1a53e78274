import { createLogger } from '../../src/logger'
import { createReminderScheduler } from '../../src/modules/reminders/scheduler'
import type { TestApp } from './app'
import { stopAfterTest } from './cleanup'
import { sharedDatabase } from './database'

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
