import { Elysia, t } from 'elysia'
import { accountModels } from '../modules/accounts/model'
import { batchModels } from '../modules/batch/model'
import { calendarModels } from '../modules/calendar/model'
import { eventModels } from '../modules/events/model'
import { listModels } from '../modules/lists/model'
import { quickAddModels } from '../modules/quick-add/model'
import { reminderModels } from '../modules/reminders/model'
import { syncModels } from '../modules/sync/model'
import { taskModels } from '../modules/tasks/model'
import { trashModels } from '../modules/trash/model'
import { choice } from './choice'
import { Problem } from './problem'

const healthModels = {
  Health: t.Object({ status: t.Literal('ok') }, { description: 'The process answers' }),
  Ready: t.Object(
    {
      status: t.Literal('ready'),
      pooler: choice(['transaction', 'session', 'none'], {
        description: 'The connection pooler mode in use (DATABASE_POOLER, or detected from DATABASE_URL)',
      }),
    },
    { description: 'The database answers and is migrated' },
  ),
}

/**
 * Every named model of the API. Routes refer to them by name (`body: 'CreateTask'`,
 * `response: { 200: 'Task' }`): one definition validates requests and responses, types the
 * handlers and the Eden client, and becomes `components.schemas` in the OpenAPI document.
 */
export const modelDefinitions = {
  Problem,
  ...healthModels,
  ...accountModels,
  ...taskModels,
  ...listModels,
  ...syncModels,
  ...batchModels,
  ...trashModels,
  ...eventModels,
  ...quickAddModels,
  ...calendarModels,
  ...reminderModels,
}

export const models = new Elysia({ name: 'models' }).model(modelDefinitions)
