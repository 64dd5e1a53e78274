import { Elysia, ParseError, type ValidationError } from 'elysia'
import { constraintViolation, dataException, isDatabaseUnreachable, refusedWithoutQuery } from '../db/errors'
import type { Logger } from '../logger'
import { describeValidation } from '../schema/validation-messages'
import { spelledAs } from './field-spelling'
import { PROBLEM_CONTENT_TYPE, type Problem, ProblemError, problem, serviceUnavailable } from './problem'

/** The methods a path has, for a 405's `Allow`; undefined when no route has the path. */
export type AllowedMethods = (path: string) => string[] | undefined

function noRoute(request: Request, allowed: AllowedMethods | undefined): ProblemError {
  const path = new URL(request.url).pathname
  const allow = allowed?.(path)
  if (!allow) return new ProblemError(404, 'not_found', 'No such route.')
  const list = allow.join(', ')
  return new ProblemError(
    405,
    'method_not_allowed',
    `${request.method} is not allowed on ${path}; it allows ${list}.`,
    {
      headers: { allow: list },
    },
  )
}

function toProblemError(
  code: string | number,
  error: unknown,
  request: Request,
  allowed: AllowedMethods | undefined,
): ProblemError | undefined {
  if (error instanceof ProblemError) return error
  if (error instanceof ParseError && error.cause instanceof ProblemError) return error.cause
  switch (code) {
    case 'NOT_FOUND':
      return noRoute(request, allowed)
    case 'PARSE':
      return new ProblemError(400, 'validation_failed', 'The request body is not valid JSON.')
    case 'VALIDATION':
      return describeValidation(error as ValidationError, spelledAs(request))
  }
  if (isDatabaseUnreachable(error)) return serviceUnavailable()
  const sqlState = constraintViolation(error) ?? dataException(error)
  if (sqlState === '23505') return new ProblemError(409, 'conflict', 'That conflicts with an existing record.')
  // A row this one points to is gone (for instance a user deleted while its token lives on).
  if (sqlState === '23503') return new ProblemError(409, 'conflict', 'A record this refers to no longer exists.')
  if (sqlState === '23514' || sqlState === '23502' || sqlState?.startsWith('22'))
    return new ProblemError(400, 'validation_failed', 'A value is outside what can be stored.')
  return undefined
}

/**
 * The root error handler: every failure, wherever it is thrown, leaves as one problem+json
 * shape. The full error of an unexpected failure goes to the log only.
 */
export const errorHandler = (logger: Logger, allowed?: AllowedMethods) =>
  new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, ({ code, error, set, request, path }) => {
    const known = toProblemError(code, error, request, allowed)
    let body: Problem
    if (known) {
      body = known.toProblem()
      // Handlers name fields canonically; the client reads them as it spelled them.
      if (body.errors && code !== 'VALIDATION') {
        const spell = spelledAs(request)
        body.errors = body.errors.map((e) => ({ ...e, field: spell(e.field) }))
      }
      Object.assign(set.headers, known.options.headers)
      const cause = known.cause ?? error
      if (known.status === 503 && !refusedWithoutQuery(cause))
        logger.warn('dependency unavailable', { method: request.method, path, err: cause })
    } else {
      body = problem(500, 'internal_error', 'Something went wrong on our side; it has been logged.')
      logger.error('unhandled error', { method: request.method, path, code, err: error })
    }
    set.status = body.status
    set.headers['content-type'] = PROBLEM_CONTENT_TYPE
    return JSON.stringify(body)
  })
