import type { TSchema } from '@sinclair/typebox'
import { t } from 'elysia'
import { type FieldError, validationFailed } from '../../http/problem'
import { objectFieldErrors } from '../../schema/validation-messages'
import { CreateListBody, DeleteListQuery, MoveListBody, UpdateListBody } from '../lists/model'
import { CompleteBody, CreateTaskBody, MoveTaskBody, UpdateTaskBody } from '../tasks/model'
import { type BatchOperation, type EntityType, type Op, TEMP_REFERENCE } from './model'

/** An id as an operation gives it: a real one, or the name of an earlier create's temp_id. */
export type Ref = number | { temp: string }

/** One operation, checked: its data valid for its route, every temp reference to an earlier create. */
export interface Step {
  op: Op
  type: EntityType
  id?: Ref
  tempId?: string
  expected?: readonly number[]
  /** The data as the single route would take it, except that the `refs` fields hold a `Ref`. */
  data: Record<string, unknown>
  /** The fields of `data` that hold a temp reference (only these are resolved). */
  refs: readonly string[]
}

const NoData = t.Object({}, { additionalProperties: false })

/** The schema of each operation's data, and which of its fields name a task or a list. */
const ROUTES: Record<EntityType, Partial<Record<Op, { schema: TSchema; refs: Record<string, EntityType> }>>> = {
  task: {
    create: {
      schema: CreateTaskBody,
      refs: { list_id: 'list', parent_id: 'task', after_id: 'task', before_id: 'task' },
    },
    update: { schema: UpdateTaskBody, refs: {} },
    complete: { schema: CompleteBody, refs: {} },
    move: { schema: MoveTaskBody, refs: { list_id: 'list', parent_id: 'task', after_id: 'task', before_id: 'task' } },
    delete: { schema: NoData, refs: {} },
    // Out of the trash (`id`: the trashed task's id), as POST /trash/{id}/restore.
    restore: { schema: NoData, refs: {} },
  },
  list: {
    create: { schema: CreateListBody, refs: {} },
    update: { schema: UpdateListBody, refs: {} },
    move: { schema: MoveListBody, refs: { after_id: 'list', before_id: 'list' } },
    delete: { schema: DeleteListQuery, refs: {} },
  },
}

// Operations whose data may be left out: what they do then is what an empty body does.
const DATA_OPTIONAL = new Set(['task complete', 'task delete', 'task restore', 'list delete'])

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Names a field of operation `index` as the client spelled it (`operations.3.data.listId`). */
export type FieldNamer = (index: number, field: string) => string

/**
 * Checks every operation before anything is written: each one's data against the single
 * route's own model, and each temp reference against the creates before it. The first
 * operation with a problem fails the batch (400, naming it).
 */
export function planBatch(operations: readonly BatchOperation[], name: FieldNamer): Step[] {
  const temps = new Map<string, { type: EntityType; index: number }>()
  return operations.map((operation, index) => {
    const fail = (errors: FieldError[]) => {
      throw validationFailed(
        `Operation ${index} is invalid, so none of the batch was applied: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
        errors,
      ).withOperation(index)
    }
    const at = (field: string, message: string) => fail([{ field: name(index, field), message }])
    const { op, type } = operation
    const route = ROUTES[type][op]
    if (!route) return at('op', `${op} takes tasks only`)

    // A temp reference must name an earlier create's temp_id, of the right type.
    const resolve = (field: string, value: unknown, wanted: EntityType): Ref | undefined => {
      if (typeof value !== 'string' || !TEMP_REFERENCE.test(value)) return undefined
      const temp = temps.get(value.slice(1))
      if (!temp) return at(field, `names no temp_id of an earlier create in this batch (${value})`)
      if (temp.type !== wanted)
        return at(field, `names a ${temp.type} (operation ${temp.index}), where a ${wanted} id goes`)
      return { temp: value.slice(1) }
    }

    let id: Ref | undefined
    if (op === 'create') {
      if (operation.id !== undefined) return at('id', 'is not taken by a create (the database assigns ids)')
      if (operation.version !== undefined) return at('version', 'is not taken by a create')
    } else if (op === 'restore' && operation.version !== undefined) {
      return at('version', 'is not taken by a restore (a trashed task has no current version)')
    } else {
      if (operation.temp_id !== undefined) return at('temp_id', 'is only for a create')
      if (operation.id === undefined) return at('id', 'is required')
      id = typeof operation.id === 'number' ? operation.id : resolve('id', operation.id, type)
    }

    const given = operation.data
    if (given === undefined && !DATA_OPTIONAL.has(`${type} ${op}`)) return at('data', 'is required')
    const data: Record<string, unknown> = isRecord(given) ? { ...given } : {}
    // Each temp reference is checked here; validation then sees a placeholder id in its place.
    const refs: Record<string, Ref> = {}
    for (const [field, wanted] of Object.entries(route.refs)) {
      const ref = resolve(`data.${field}`, data[field], wanted)
      if (ref !== undefined) refs[field] = ref
    }
    const errors = objectFieldErrors(route.schema, {
      ...data,
      ...Object.fromEntries(Object.keys(refs).map((f) => [f, 1])),
    })
    if (errors.length > 0)
      return fail(
        errors.map((e) => ({ field: name(index, e.field === '' ? 'data' : `data.${e.field}`), message: e.message })),
      )
    Object.assign(data, refs)

    if (op === 'create' && operation.temp_id !== undefined) {
      const earlier = temps.get(operation.temp_id)
      if (earlier) return at('temp_id', `is already the temp_id of operation ${earlier.index}`)
      temps.set(operation.temp_id, { type, index })
    }
    return {
      op,
      type,
      id,
      tempId: op === 'create' ? operation.temp_id : undefined,
      expected: operation.version === undefined ? undefined : [operation.version],
      data,
      refs: Object.keys(refs),
    }
  })
}
