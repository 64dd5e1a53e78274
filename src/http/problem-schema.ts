import { Type } from '@sinclair/typebox'
import { t } from 'elysia'

export const ProblemSchema = t.Object(
  {
    type: t.String({ examples: ['urn:todo-api:problem:validation_failed'] }),
    title: t.String({ examples: ['Validation failed'] }),
    status: Type.Integer({ examples: [400] }),
    detail: t.String({ examples: ['The request body is invalid: title must be 1 to 255 characters and not blank.'] }),
    code: t.String({
      examples: ['validation_failed'],
      description:
        'Stable machine-readable code: validation_failed, unauthorized, forbidden, not_found, conflict, unsupported_media_type, payload_too_large, rate_limited, service_unavailable, internal_error',
    }),
    errors: t.Optional(
      t.Array(t.Object({ field: t.String({ examples: ['title'] }), message: t.String({ examples: ['is required'] }) })),
    ),
  },
  { description: 'RFC 9457 problem details (Content-Type: application/problem+json)' },
)

const problem = (description: string) => t.Composite([ProblemSchema], { description })

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const authErrors = {
  401: problem('Missing, malformed, expired or badly signed token (with WWW-Authenticate: Bearer)'),
  403: problem('The token is valid but the path names another user'),
  429: problem('Too many requests (with Retry-After)'),
  503: problem('The database is unreachable (with Retry-After)'),
}

export const bodyErrors = {
  400: problem('Invalid body: wrong type, missing field, limits, malformed JSON, unknown or read-only field'),
  413: problem('Body larger than the limit (64 KiB by default)'),
  415: problem('Body is not JSON'),
}

export const notFoundError = {
  404: problem('No such task for this user (unknown, foreign, or not a positive integer id)'),
}
