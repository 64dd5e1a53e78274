import { Elysia, ParseError, type ValidationError } from 'elysia'
import type { Logger } from '../logger'
import { constraintViolation, dataException, isDatabaseUnreachable } from './database-errors'
import { PROBLEM_CONTENT_TYPE, type Problem, ProblemError, problem, serviceUnavailable } from './problem'
import { describeValidation } from './validation-messages'

function toProblemError(code: string | number, error: unknown): ProblemError | undefined {
  if (error instanceof ProblemError) return error
  if (error instanceof ParseError && error.cause instanceof ProblemError) return error.cause
  switch (code) {
    case 'NOT_FOUND':
      return new ProblemError(404, 'not_found', 'No such route.')
    case 'PARSE':
      return new ProblemError(400, 'validation_failed', 'The request body is not valid JSON.')
    case 'VALIDATION':
      return describeValidation(error as ValidationError)
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
export const errorHandler = (logger: Logger) =>
  new Elysia({ name: 'error-handler' }).onError({ as: 'global' }, ({ code, error, set, request, path }) => {
    const known = toProblemError(code, error)
    let body: Problem
    if (known) {
      body = known.toProblem()
      Object.assign(set.headers, known.options.headers)
      if (known.status === 503)
        logger.warn('dependency unavailable', { method: request.method, path, err: known.cause ?? error })
    } else {
      body = problem(500, 'internal_error', 'Something went wrong on our side; it has been logged.')
      logger.error('unhandled error', { method: request.method, path, code, err: error })
    }
    set.status = body.status
    set.headers['content-type'] = PROBLEM_CONTENT_TYPE
    return JSON.stringify(body)
  })
