import { etagOf } from './conditional'
/** Every `code` a problem can carry: a closed set, documented as the Problem model's enum. */
export const PROBLEM_CODES = [
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'default_list',
  'list_not_empty',
  'list_limit',
  'list_name_taken',
  'sync_token_expired',
  'precondition_failed',
  'idempotency_key_in_use',
  'idempotency_key_reused',
  'unsupported_media_type',
  'payload_too_large',
  'rate_limited',
  'service_unavailable',
  'internal_error',
] as const

/** RFC 9457 problem details: the one error shape of the whole API. */
export type ProblemCode = (typeof PROBLEM_CODES)[number]

export interface FieldError {
  field: string
  message: string
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ProblemCode
  errors?: FieldError[]
  /** With `list_not_empty`: how many tasks the list holds. */
  task_count?: number
  /** With `precondition_failed`: the task or list as it is now. */
  current?: unknown
}

const TITLES: Record<ProblemCode, string> = {
  validation_failed: 'Validation failed',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  default_list: 'The default list cannot be deleted',
  list_not_empty: 'The list still has tasks',
  list_limit: 'Too many lists',
  list_name_taken: 'A list with that name exists',
  sync_token_expired: 'Sync token expired',
  precondition_failed: 'Precondition failed',
  idempotency_key_in_use: 'A request with this Idempotency-Key is still being processed',
  idempotency_key_reused: 'This Idempotency-Key was used for a different request',
  unsupported_media_type: 'Unsupported media type',
  payload_too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  service_unavailable: 'Service unavailable',
  internal_error: 'Internal server error',
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** An error that already knows how it is answered: status, code, a sentence and headers. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: {
      errors?: FieldError[]
      headers?: Record<string, string>
      cause?: unknown
      taskCount?: number
      /** With `precondition_failed`: the resource as it is now. */
      current?: unknown
    } = {},
  ) {
    super(detail, { cause: options.cause })
  }

  toProblem(): Problem {
    const body = problem(this.status, this.code, this.detail, this.options.errors)
    if (this.options.taskCount !== undefined) body.task_count = this.options.taskCount
    if (this.options.current !== undefined) body.current = this.options.current
    return body
  }
}

export function problem(status: number, code: ProblemCode, detail: string, errors?: FieldError[]): Problem {
  const body: Problem = { type: `urn:todo-api:problem:${code}`, title: TITLES[code], status, detail, code }
  if (errors !== undefined) body.errors = errors
  return body
}

export const validationFailed = (detail: string, errors: FieldError[]) =>
  new ProblemError(400, 'validation_failed', detail, { errors })

export const notFound = (detail: string) => new ProblemError(404, 'not_found', detail)

export const unauthorized = (detail: string, error?: 'invalid_token') =>
  new ProblemError(401, 'unauthorized', detail, {
    headers: { 'www-authenticate': error ? `Bearer realm="todo-api", error="${error}"` : 'Bearer realm="todo-api"' },
  })

export const forbidden = (detail: string) => new ProblemError(403, 'forbidden', detail)

/** `If-Match` named a version that is not the current one: nothing changed; here is the current one. */
export const preconditionFailed = (current: { version: number }, what: string) =>
  new ProblemError(
    412,
    'precondition_failed',
    `The ${what} changed since you read it (it is at version ${current.version} now); nothing was changed. \`current\` has it as it is.`,
    { current, headers: { etag: etagOf(current.version) } },
  )

export const rateLimited = (retryAfterSeconds: number) =>
  new ProblemError(429, 'rate_limited', 'Too many requests; try again later.', {
    headers: { 'retry-after': String(retryAfterSeconds) },
  })

export const serviceUnavailable = (
  detail = 'The database is not reachable right now; try again shortly.',
  cause?: unknown,
  retryAfterSeconds = 5,
) =>
  new ProblemError(503, 'service_unavailable', detail, { headers: { 'retry-after': String(retryAfterSeconds) }, cause })
