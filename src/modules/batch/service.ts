import type { Db } from '../../db/client'
import { notFound, ProblemError } from '../../http/problem'
import type { CreateListInput, UpdateListInput } from '../lists/model'
import { toList } from '../lists/model'
import * as lists from '../lists/service'
import { counterOf } from '../sync/service'
import type { CreateTaskInput, UpdateTaskInput } from '../tasks/model'
import { toTask } from '../tasks/model'
import * as tasks from '../tasks/service'
import { lockUser } from '../tasks/tree'
import { restoreTask } from '../trash/service'
import type { BatchResult, BatchResultItem } from './model'
import type { FieldNamer, Step } from './plan'

const gone = (type: 'task' | 'list') => notFound(`No ${type} with that id.`)

/**
 * Applies the steps in order in one transaction: all of them, or (on the first failure) none.
 * The user's turn is taken first, so no other write of theirs lands in between, and the sync
 * token read at the end is exactly the counter after this batch: any later write draws a
 * higher number, after this commit.
 */
export function applyBatch(db: Db, userId: string, steps: readonly Step[], name: FieldNamer): Promise<BatchResult> {
  return db.transaction(async (tx) => {
    await lockUser(tx, userId)
    // A Map, not an object: a temp_id may be any name, `__proto__` too.
    const temps = new Map<string, number>()
    // Only a reference (`$t1`, planned as `{temp}`) is replaced: other objects are values (a
    // recurrence, a list of reminders).
    const real = (ref: unknown) =>
      typeof ref === 'object' && ref !== null && !Array.isArray(ref) && Object.hasOwn(ref, 'temp')
        ? temps.get((ref as { temp: string }).temp)
        : ref
    const results: BatchResultItem[] = []
    for (const [index, step] of steps.entries()) {
      try {
        const data = { ...step.data }
        for (const field of step.refs) data[field] = real(data[field])
        const result = await applyStep(
          tx,
          userId,
          step,
          data,
          step.id === undefined ? undefined : (real(step.id) as number),
        )
        if (step.tempId !== undefined) temps.set(step.tempId, result.id)
        results.push(result)
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error
        throw error.withOperation(index, {
          detail: `Operation ${index} (${step.op} ${step.type}) failed, so none of the batch was applied: ${error.detail}`,
          name: (field) => name(index, `data.${field}`),
        })
      }
    }
    const { seq } = await counterOf(tx, userId)
    return { results, temp_ids: Object.fromEntries(temps), sync_token: String(seq) }
  })
}

async function applyStep(
  tx: Db,
  userId: string,
  step: Step,
  data: Record<string, unknown>,
  id: number | undefined,
): Promise<BatchResultItem> {
  const { op, type, expected } = step
  const placement = () => ({
    afterId: data.after_id as number | undefined,
    beforeId: data.before_id as number | undefined,
  })
  if (type === 'task') {
    const answer = (row: Awaited<ReturnType<typeof tasks.getTask>>) => {
      if (!row) throw gone('task')
      return { op, type, id: row.id, task: toTask(row) }
    }
    switch (op) {
      case 'create':
        return answer(await tasks.createTask(tx, userId, data as CreateTaskInput))
      case 'update':
        return answer(await tasks.updateTask(tx, userId, id as number, data as UpdateTaskInput, expected))
      case 'complete':
        return answer(
          await tasks.setCompleted(tx, userId, id as number, data.completed as boolean | undefined, expected),
        )
      case 'move': {
        const wanted = {
          list_id: data.list_id as number | undefined,
          parent_id: data.parent_id as number | null | undefined,
        }
        return answer(await tasks.moveTask(tx, userId, id as number, wanted, placement(), expected))
      }
      case 'delete':
        if (!(await tasks.deleteTask(tx, userId, id as number, expected))) throw gone('task')
        return { op, type, id: id as number, task: null }
      case 'restore': {
        const row = await restoreTask(tx, userId, id as number)
        if (!row) throw notFound('No task with that id in your trash.')
        return answer(row)
      }
    }
  }
  const answer = (row: Awaited<ReturnType<typeof lists.getList>>) => {
    if (!row) throw gone('list')
    return { op, type, id: row.id, list: toList(row) }
  }
  switch (op) {
    case 'create':
      return answer(await lists.createList(tx, userId, data as CreateListInput))
    case 'update':
      return answer(await lists.updateList(tx, userId, id as number, data as UpdateListInput, expected))
    case 'move':
      return answer(await lists.moveList(tx, userId, id as number, placement(), expected))
    case 'delete': {
      const mode = data.tasks as lists.DeleteMode
      if (!(await lists.deleteList(tx, userId, id as number, mode, expected))) throw gone('list')
      return { op, type, id: id as number, list: null }
    }
  }
  // `planBatch` lets no other operation through.
  throw new Error(`unplanned batch operation ${op} ${type}`)
}
