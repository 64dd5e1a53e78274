import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ValidationError } from 'elysia'
import { EMPTY_BODY } from '../http/json-body'
import { type FieldError, notFound, type ProblemError, validationFailed } from '../http/problem'
import { textProblem } from './text'

// Fields the server owns: naming them in a body is refused as read-only, not as unknown.
const READ_ONLY_FIELDS = new Set(['id', 'user_id', 'created_at', 'updated_at', 'completed_at', 'version', 'next_due'])
// Enough to fix a request; a body of thousands of unknown keys is not echoed back.
const MAX_REPORTED_FIELDS = 20
const MAX_FIELD_NAME = 100

interface Issue {
  path: string
  message: string
  value: unknown
  schema: TSchema & { errorMessage?: string; minProperties?: number }
}

interface ObjectSchema extends TSchema {
  properties: Record<string, TSchema>
  required?: string[]
  additionalProperties?: unknown
  minProperties?: number
}

const isObjectSchema = (schema: unknown): schema is ObjectSchema =>
  typeof schema === 'object' && schema !== null && (schema as ObjectSchema).type === 'object' && 'properties' in schema

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// RFC 6901, as TypeBox writes its error paths.
const pointer = (key: string) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`

/**
 * The problems of an object value, field by field, in TypeBox's order (missing, unknown, then
 * each declared field's first error). Each step does bounded work: a field is checked once and
 * described by its first error only, so a 64 KiB array in one field costs one short-circuiting
 * check, not a walk through every one of its elements. Callers stop after a few issues.
 */
function* objectIssues(schema: ObjectSchema, value: unknown): Generator<Issue> {
  if (!isRecord(value)) return yield { path: '', message: 'Expected object', value, schema }
  if (schema.minProperties !== undefined && Object.keys(value).length < schema.minProperties)
    yield { path: '', message: 'Expected more properties', value, schema }
  for (const key of schema.required ?? [])
    if (!Object.hasOwn(value, key))
      yield { path: pointer(key), message: 'Expected required property', value: undefined, schema }
  if (schema.additionalProperties === false)
    for (const key in value)
      if (!Object.hasOwn(schema.properties, key))
        yield { path: pointer(key), message: 'Unexpected property', value: value[key], schema }
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!Object.hasOwn(value, key) || value[key] === undefined) continue
    const first = Value.Errors(property, value[key]).First()
    if (first) yield { ...first, path: pointer(key) + first.path } as Issue
  }
}

/** The first few issues Elysia's own checker reports (for schemas other than plain objects). */
function* firstIssues(error: ValidationError): Generator<Issue> {
  const validator = error.validator as unknown as { Errors?: (value: unknown) => Iterable<Issue> }
  if (validator.Errors) yield* validator.Errors(error.value)
}

function fieldOf(path: string, where: string): string {
  if (path === '') return where
  const field = path.slice(1).replaceAll('/', '.')
  return field.length > MAX_FIELD_NAME ? `${field.slice(0, MAX_FIELD_NAME)}…` : field
}

function messageOf(issue: Issue, field: string): string {
  if (issue.message === 'Unexpected property')
    return READ_ONLY_FIELDS.has(field) ? 'is read-only and cannot be set' : 'is not a known field'
  if (issue.message === 'Expected required property') return 'is required'
  const encoding = textProblem(issue.value)
  if (encoding) return encoding
  if (issue.schema.errorMessage) return issue.schema.errorMessage
  return issue.message.replace(/^Expected /, 'must be ').replace(/^must be union value$/, 'has an invalid value')
}

function rootMessage(issue: Issue, where: string, value: unknown): string {
  if (where === 'body' && (value === EMPTY_BODY || value === undefined)) return 'is required (a JSON object)'
  if (issue.schema.minProperties) return 'must name at least one field to change'
  return 'must be a JSON object'
}

const hasListId = (params: unknown) => typeof params === 'object' && params !== null && 'list_id' in params

/** What a path id's schema says it names when it names nothing (`x-not-found`), if it says. */
type IdSchema = { 'x-not-found'?: string }

/** A path id that names nothing: what its schema says, else a task (a list on the list routes). */
const noSuchId = (params: unknown, schema: IdSchema | undefined) =>
  notFound(schema?.['x-not-found'] ?? (hasListId(params) ? 'No list with that id.' : 'No task with that id.'))

/**
 * Turns Elysia's validation error into the API's 400 (or 404 for a bad path id), naming each
 * field and never echoing the submitted values back. `spell` names a body field as the client
 * spelled it (camelCase or snake_case; see field-spelling.ts).
 */
export function describeValidation(
  error: ValidationError,
  spell: (field: string) => string = (field) => field,
): ProblemError | undefined {
  const where = error.type
  // A response that fails its schema is a server bug: let it become a 500.
  if (where === 'response') return undefined
  // Path parameters only carry ids: one that is not a positive integer names nothing (a task, a
  // list on the list routes, whose id is `list_id`, or what its schema's `x-not-found` says).
  if (where === 'params') {
    const params = error.validator as unknown as { schema?: { properties?: { id?: IdSchema } } } | undefined
    return noSuchId(error.value, params?.schema?.properties?.id)
  }
  // Elysia reports a failed number coercion (path or query) without a path; the schema's
  // `x-param` names the parameter.
  if (where === 'property') {
    const schema = error.validator as unknown as IdSchema & { 'x-param'?: string; errorMessage?: string }
    const field = schema['x-param'] ?? 'query'
    if (field === 'id') return noSuchId(undefined, schema)
    const message = schema.errorMessage ?? 'has an invalid value'
    return validationFailed(`The query parameters are invalid: ${field} ${message}.`, [{ field, message }])
  }

  // Query arrays (`priority=high,urgent`) fail in TypeBox's decode step, whose error carries
  // the array's schema but no path: the schema's `x-param` names the parameter.
  if (!(error instanceof ValidationError)) {
    const decoded = error as { schema?: { 'x-param'?: string; errorMessage?: string } }
    // Its `type` is TypeBox's error number, not where it came from; only query parameters
    // carry `x-param`.
    const inQuery = where === 'query' || decoded.schema?.['x-param'] !== undefined
    const field = decoded.schema?.['x-param'] ?? (inQuery ? 'query' : 'body')
    const message = decoded.schema?.errorMessage ?? 'has an invalid value'
    return validationFailed(
      `The ${inQuery ? 'query parameters are' : 'request body is'} invalid: ${field} ${message}.`,
      [{ field, message }],
    )
  }

  const schema = (error.validator as unknown as { schema?: unknown }).schema
  const issues = isObjectSchema(schema) ? objectIssues(schema, error.value) : firstIssues(error)
  const errors: FieldError[] = []
  const seen = new Set<string>()
  for (const issue of issues) {
    // A query parameter is named whole: `tag`, not `tag.3` for its fourth value.
    const canonical =
      where === 'query' ? (fieldOf(issue.path, 'query').split('.')[0] ?? 'query') : fieldOf(issue.path, 'body')
    const field = where === 'body' ? spell(canonical) : canonical
    if (seen.has(field)) continue
    seen.add(field)
    errors.push({
      field,
      message: issue.path === '' ? rootMessage(issue, where, error.value) : messageOf(issue, canonical),
    })
    if (errors.length === MAX_REPORTED_FIELDS) break
  }
  const what = where === 'query' ? 'query parameters are' : where === 'headers' ? 'headers are' : 'request body is'
  const detail = `The ${what} invalid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`
  return validationFailed(detail, errors)
}

/**
 * The field problems of `value` against an object schema, named and worded as a body's are,
 * for bodies nested in another (a batch operation's `data`): empty when it is valid.
 */
export function objectFieldErrors(schema: TSchema, value: unknown): FieldError[] {
  if (!isObjectSchema(schema)) throw new TypeError('objectFieldErrors takes an object schema')
  const errors: FieldError[] = []
  const seen = new Set<string>()
  for (const issue of objectIssues(schema, value)) {
    const field = fieldOf(issue.path, '')
    if (seen.has(field)) continue
    seen.add(field)
    errors.push({ field, message: issue.path === '' ? rootMessage(issue, 'data', value) : messageOf(issue, field) })
    if (errors.length === MAX_REPORTED_FIELDS) break
  }
  return errors
}
