import { Elysia } from 'elysia'
import type { AuthPlugin } from '../../auth/plugin'
import type { Db } from '../../db/client'
import { snakeCaseOf } from '../../http/field-spelling'
import { validationFailed } from '../../http/problem'
import { requestLogger } from '../../http/request-context'
import type { Logger } from '../../logger'
import { models } from '../../schema/models'
import { problems } from '../../schema/problem'
import { UserParams } from '../tasks/model'
import { type FieldNamer, planBatch } from './plan'
import { applyBatch } from './service'

export interface BatchDeps {
  db: Db
  auth: AuthPlugin
  logger: Logger
}

const CAMEL_CASE = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/

interface Spelling {
  /** `index data.list_id` → `listId`: what the client wrote instead. */
  sent: Map<string, string>
  conflicts: { index: number; field: string; camel: string }[]
}
const spellings = new WeakMap<Request, Spelling>()

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The v2 spelling rule inside each operation: `tempId` and data fields such as `listId` are
 * renamed to their snake_case names before validation, as the app does for top-level fields
 * (see http/field-spelling.ts).
 */
function canonicalise(request: Request, body: unknown) {
  if (!isRecord(body) || !Array.isArray(body.operations)) return
  const spelling: Spelling = { sent: new Map(), conflicts: [] }
  const rename = (object: Record<string, unknown>, index: number, prefix: string) => {
    for (const key of Object.keys(object)) {
      if (!CAMEL_CASE.test(key)) continue
      const canonical = snakeCaseOf(key)
      const value = object[key]
      delete object[key]
      if (!Object.hasOwn(object, canonical)) {
        object[canonical] = value
        spelling.sent.set(`${index} ${prefix}${canonical}`, `${prefix}${key}`)
      } else if (!Bun.deepEquals(object[canonical], value, true))
        spelling.conflicts.push({ index, field: `${prefix}${canonical}`, camel: `${prefix}${key}` })
    }
  }
  for (const [index, operation] of body.operations.entries()) {
    if (!isRecord(operation)) continue
    rename(operation, index, '')
    if (isRecord(operation.data)) rename(operation.data, index, 'data.')
  }
  spellings.set(request, spelling)
}

/** `operations.3.data.listId`: a field of an operation, as the client spelled it. */
const namer =
  (request: Request): FieldNamer =>
  (index, field) => {
    const sent = spellings.get(request)?.sent
    const parts = field.split('.')
    for (const n of [2, 1]) {
      const head = parts.slice(0, n).join('.')
      const spelled = sent?.get(`${index} ${head}`)
      if (spelled !== undefined) return `operations.${index}.${spelled}${field.slice(head.length)}`
    }
    return `operations.${index}.${field}`
  }

export const batchModule = ({ db, auth, logger }: BatchDeps) =>
  new Elysia({ name: 'batch', prefix: '/api/:user_id' })
    .use(models)
    .use(auth)
    .post(
      '/batch',
      async ({ userId, body, request }) => {
        const name = namer(request)
        const steps = planBatch(body.operations, name)
        const result = await applyBatch(db, userId, steps, name)
        requestLogger(logger, request).info('batch applied', { user_id: userId, operations: steps.length })
        return result
      },
      {
        auth: true,
        params: UserParams,
        parse: 'json',
        transform: ({ request, body }) => canonicalise(request, body),
        // Two spellings of one field are refused after the token check and validation, as elsewhere.
        beforeHandle: ({ request }) => {
          const [first] = spellings.get(request)?.conflicts ?? []
          if (!first) return
          const field = `operations.${first.index}.${first.field}`
          const message = `is given as both ${first.field} and ${first.camel}, with different values`
          throw validationFailed(`The request body is invalid: ${field} ${message}.`, [
            { field, message },
          ]).withOperation(first.index)
        },
        body: 'Batch',
        response: { 200: 'BatchResult', ...problems(400, 401, 403, 404, 409, 412, 413, 415, 429, 503) },
        detail: {
          operationId: 'applyBatch',
          summary: 'Apply up to 100 changes at once, all or nothing (an offline queue)',
          description:
            "Operations run in order in one transaction. A create can carry a `temp_id` that later operations use as `$` + temp_id wherever an id goes. On the first failing operation nothing is applied and the answer is that operation's own problem (400, 404, 409 or 412, the same as its single route would give) with `operation_index`; field errors are named `operations.<index>.…`. `version` on an operation is its `If-Match`. The answer gives each operation's result, the real id of each temp_id and the sync token right after the batch.",
          tags: ['sync'],
          security: [{ bearer: [] }],
        },
      },
    )
