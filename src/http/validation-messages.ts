import type { ValidationError } from 'elysia'
import { EMPTY_BODY } from './json-body'
import { type FieldError, notFound, type ProblemError, validationFailed } from './problem'

// Fields the server owns: naming them in a body is refused as read-only, not as unknown.
const READ_ONLY_FIELDS = new Set(['id', 'user_id', 'created_at', 'updated_at', 'completed_at'])

interface Issue {
  path: string
  message: string
  value: unknown
  schema: { errorMessage?: string; minProperties?: number }
}

function fieldOf(path: string, where: string): string {
  return path === '' ? where : path.slice(1).replaceAll('/', '.')
}

function messageOf(issue: Issue, field: string): string {
  if (issue.message === 'Unexpected property')
    return READ_ONLY_FIELDS.has(field) ? 'is read-only and cannot be set' : 'is not a known field'
  if (issue.message === 'Expected required property') return 'is required'
  if (issue.schema.errorMessage) return issue.schema.errorMessage
  return issue.message.replace(/^Expected /, 'must be ').replace(/^must be union value$/, 'has an invalid value')
}

function rootMessage(issue: Issue, where: string, value: unknown): string {
  if (where === 'body' && (value === EMPTY_BODY || value === undefined)) return 'is required (a JSON object)'
  if (issue.schema.minProperties) return 'must name at least one field to change'
  return 'must be a JSON object'
}

/**
 * Turns Elysia's validation error into the API's 400 (or 404 for a bad path id), naming each
 * field and never echoing the submitted values back.
 */
export function describeValidation(error: ValidationError): ProblemError | undefined {
  const where = error.type
  // A response that fails its schema is a server bug: let it become a 500.
  if (where === 'response') return undefined
  // Path parameters only carry ids: one that is not a positive integer names no task.
  if (where === 'params') return notFound('No task with that id.')
  // Elysia reports a failed number coercion (path or query) without a path; the schema's
  // `x-param` names the parameter.
  if (where === 'property') {
    const schema = error.validator as unknown as { 'x-param'?: string; errorMessage?: string }
    const field = schema['x-param'] ?? 'query'
    if (field === 'id') return notFound('No task with that id.')
    const message = schema.errorMessage ?? 'has an invalid value'
    return validationFailed(`The query parameters are invalid: ${field} ${message}.`, [{ field, message }])
  }

  // Query arrays (`priority=high,urgent`) fail in TypeBox's decode step, whose error carries
  // the array's schema but no path: the schema's `x-param` names the parameter.
  const decoded = error as unknown as { all?: unknown; schema?: { 'x-param'?: string; errorMessage?: string } }
  if (decoded.all === undefined) {
    const field = decoded.schema?.['x-param'] ?? (where === 'query' ? 'query' : 'body')
    const message = decoded.schema?.errorMessage ?? 'has an invalid value'
    return validationFailed(
      `The ${where === 'query' ? 'query parameters are' : 'request body is'} invalid: ${field} ${message}.`,
      [{ field, message }],
    )
  }

  const errors: FieldError[] = []
  const seen = new Set<string>()
  for (const issue of error.all as unknown as Issue[]) {
    // A query parameter is named whole: `tag`, not `tag.3` for its fourth value.
    const field =
      where === 'query' ? (fieldOf(issue.path, 'query').split('.')[0] ?? 'query') : fieldOf(issue.path, 'body')
    if (seen.has(field)) continue
    seen.add(field)
    errors.push({
      field,
      message: issue.path === '' ? rootMessage(issue, where, error.value) : messageOf(issue, field),
    })
  }
  const what = where === 'query' ? 'query parameters are' : where === 'headers' ? 'headers are' : 'request body is'
  const detail = `The ${what} invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`
  return validationFailed(detail, errors)
}
