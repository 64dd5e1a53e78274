import { t } from 'elysia'
import { NoContent } from './problem'

// A route that declares request headers types them for the Eden client: the headers every
// caller may send anyway are declared with them, or a typed call could not pass them.
const everyRequest = {
  'x-request-id': t.Optional(t.String({ description: 'Echoed back; generated when absent', examples: ['req-42'] })),
}
// `Authorization` is declared for the typed client too; OpenAPI tools ignore a header parameter
// of that name (the route's `security` describes it).
const authorization = t.Optional(t.String({ description: '`Bearer <token>`' }))

const ifMatch = t.Optional(
  t.String({
    description:
      'Change it only if it is still at this version: the `ETag` you read (`"12"`). Otherwise 412 `precondition_failed` with the current one, and nothing changes.',
    examples: ['"12"'],
  }),
)
const ifNoneMatch = t.Optional(
  t.String({ description: 'The `ETag` you hold: 304 (no body) while it is still current', examples: ['"12"'] }),
)

/** Request headers of a conditional write, as routes declare them (the OpenAPI document lists them). */
export const IfMatch = t.Object({ ...everyRequest, authorization, 'if-match': ifMatch })

/** Request headers of a conditional read. */
export const IfNoneMatch = t.Object({ ...everyRequest, authorization, 'if-none-match': ifNoneMatch })

/** Request headers of a conditional read on a route that takes no bearer token. */
export const IfNoneMatchOnly = t.Object({ ...everyRequest, 'if-none-match': ifNoneMatch })

/** The 304 of a conditional read: no body. */
export const notModified = { 304: NoContent }
