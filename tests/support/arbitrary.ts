import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import fc from 'fast-check'

// Values a route's own schemas accept, generated from those schemas: a new field or route is
// covered the day it is added. A schema kind this does not know is an error, not a silent gap.

interface Schema extends TSchema {
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  anyOf?: Schema[]
  type?: string
  enum?: unknown[]
  const?: unknown
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  minimum?: number
  maximum?: number
  minProperties?: number
  pattern?: string
  format?: string
  trim?: boolean
}

// Code points, not UTF-16 units: splitting the emoji would make lone surrogates.
const UNITS = Array.from('abcdefghijklmnopqrstuvwxyz ÄéßЖ中😀-_.!?#')
const text = (min = 0, max = 40) => fc.string({ unit: fc.constantFrom(...UNITS), minLength: min, maxLength: max })

const isoInstant = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString())
const isoDate = isoInstant.map((s) => s.slice(0, 10))
const zones = fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati')

const OPAQUE_TOKEN = /^\^\[[\w-]+\]\{\d+\}\$$/

function stringOf(schema: Schema): fc.Arbitrary<string> {
  if (schema.format === 'email' || schema.pattern?.includes('@'))
    return fc.emailAddress().filter((e) => e.length <= (schema.maxLength ?? 254))
  if (schema.format === 'date-time') return isoInstant
  // Elysia's numeric query parameters: a string branch (format integer) beside the Integer one,
  // whose own check lets through what the number's bounds refuse (" " reads as 0). Small
  // canonical numbers are within every such parameter's bounds.
  if (schema.format === 'integer') return fc.integer({ min: 1, max: 100 }).map(String)
  // A fixed-length token (a calendar key): text of the usual units would almost never match.
  if (schema.pattern && OPAQUE_TOKEN.test(schema.pattern)) return fc.stringMatching(new RegExp(schema.pattern))
  const min = schema.minLength ?? 0
  const max = Math.min(schema.maxLength ?? 60, min + 60)
  return text(min, max)
}

function objectOf(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {}
  const required = new Set(schema.required ?? [])
  const model = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, arbitraryFor(value)]))
  const optional = Object.keys(properties).filter((k) => !required.has(k) || properties[k]?.[OptionalKind])
  return fc.record(model, { requiredKeys: Object.keys(properties).filter((k) => !optional.includes(k)) })
}

// Elysia coerces a query's number or boolean by adding a string arm with its own format, whose
// check is looser than the server's ('integer' accepts ' ', since +' ' is 0). A client sends the
// declared type, so generate from the typed arm only.
const COERCION_FORMATS = new Set(['integer', 'numeric', 'boolean'])
function declaredArms(schema: Schema): Schema[] {
  const arms = schema.anyOf ?? []
  const typed = arms.filter((arm) => !(arm.type === 'string' && COERCION_FORMATS.has(arm.format ?? '')))
  return typed.length ? typed : arms
}

/** Any value of `schema`, as JSON would carry it. */
export function arbitraryFor(schema: Schema): fc.Arbitrary<unknown> {
  switch (schema[Kind]) {
    case 'Object':
      return objectOf(schema)
    case 'Array':
      return fc.array(arbitraryFor(schema.items as Schema), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      })
    case 'Union':
      return fc.oneof(...declaredArms(schema).map(arbitraryFor))
    case 'UnionEnum':
      return fc.constantFrom(...(schema.enum ?? []))
    case 'Literal':
      return fc.constant(schema.const)
    case 'Null':
      return fc.constant(null)
    case 'Boolean':
      return fc.boolean()
    case 'Integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 })
    case 'Number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true })
    case 'String':
      return stringOf(schema)
    case 'Text':
      return stringOf(schema)
    case 'Due':
      return fc.oneof(isoDate, isoInstant)
    case 'TimeZone':
      return zones
    case 'ReminderInstant':
      return isoInstant
    case 'ReminderOffset':
      return fc.constantFrom('PT0S', 'PT15M', 'PT1H30M', 'P1D', 'P1DT12H', 'P2W', 'PT86400S')
    default:
      throw new Error(`no generator for schema kind ${String(schema[Kind])}: add one in tests/support/arbitrary.ts`)
  }
}

/** Values that pass `schema` as the server checks it (TypeBox's own Check, custom kinds included). */
export const validFor = (schema: TSchema) => arbitraryFor(schema as Schema).filter((v) => Value.Check(schema, v))

/** One value that passes `schema`, for requests that only need some valid body. */
export const sampleOf = (schema: TSchema, seed = 1) => fc.sample(validFor(schema), { numRuns: 1, seed })[0]

/**
 * Hostile bodies: any JSON at all, the route's own valid bodies with one field swapped for
 * anything, unknown and read-only fields, odd Unicode and deep nesting.
 */
export function hostileFor(schema: TSchema | undefined): fc.Arbitrary<unknown> {
  const anything = fc.jsonValue({ maxDepth: 4 })
  const odd = fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff x',
    'a\u202eb',
    '\ufeff',
    ' ',
    '',
    'x'.repeat(5000),
    '𝕏'.repeat(300),
  )
  const deep = fc.integer({ min: 30, max: 400 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`))
  const extras = fc.record(
    { id: anything, user_id: anything, created_at: anything, zzz_unknown: anything },
    { requiredKeys: [] },
  )
  const arms: fc.Arbitrary<unknown>[] = [anything, odd, deep]
  const properties = (schema as Schema | undefined)?.properties
  if (schema && properties && Object.keys(properties).length > 0) {
    const keys = Object.keys(properties)
    arms.push(
      fc
        .tuple(validFor(schema), fc.constantFrom(...keys), fc.oneof(anything, odd))
        .map(([valid, key, value]) => ({ ...(valid as object), [key]: value })),
      fc.tuple(validFor(schema), extras).map(([valid, extra]) => ({ ...(valid as object), ...extra })),
    )
  }
  return fc.oneof(...arms)
}

/** JSON values of every type and edge, for swapping into one field of a valid body. */
export const edgeValue: fc.Arbitrary<unknown> = fc.constantFrom(
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2_147_483_648,
  '',
  ' ',
  'x',
  'x'.repeat(256),
  'x'.repeat(1001),
  '\u0000',
  '\ud800',
  'a,b',
  [],
  ['a'],
  ['a,b'],
  [''],
  Array.from({ length: 21 }, (_, i) => `t${i}`),
  [1, 2],
  {},
  { nested: true },
  'high',
  'urgent',
  '2026-03-01',
  '2026-13-01',
  '2026-03-01T09:00:00+05:00',
  '2026-03-01T09:00:00',
  'not a date',
)

/** Raw query-string values around every parameter's limits. */
export const edgeQueryValue: fc.Arbitrary<string> = fc.constantFrom(
  '',
  ' ',
  '0',
  '1',
  '20',
  '500',
  '501',
  '-1',
  '1.5',
  'abc',
  '99999999999999999999',
  'true',
  'false',
  'yes',
  'all',
  'pending',
  'completed',
  'done',
  'high',
  'low,high',
  'urgent',
  'high,urgent',
  'work',
  'work,',
  ',',
  'a'.repeat(51),
  Array.from({ length: 21 }, (_, i) => `t${i}`).join(','),
  '\u0000',
  '2026-03-01',
  '2026-13-01',
  '2026-03-01T09:00:00Z',
  'Europe/Berlin',
  '+05:00',
  'Mars/Olympus',
  'title',
  '-title',
  'due_date',
  'asc',
  'desc',
  'meeting',
  '!!!',
)

/**
 * Whether the server should accept `raw` for a query parameter of `schema`, read as Elysia
 * reads query strings: numbers and booleans from their text, arrays split on commas.
 */
export function queryValueAccepted(schema: TSchema, raw: string): boolean {
  // Elysia's query numbers and booleans are unions of the value and its text: the value's arm
  // holds the rules.
  const s = ((schema as Schema).anyOf?.find((arm) => arm[Kind] === 'Integer' || arm[Kind] === 'Boolean') ??
    schema) as Schema
  switch (s[Kind]) {
    case 'Integer': {
      // Only a plain decimal, as the server reads ids and sizes (no 05, +5, 5.0, 0x5, 1e1).
      const n = Number(raw)
      return /^[1-9]\d*$/.test(raw) && Number.isSafeInteger(n) && Value.Check(s, n)
    }
    case 'Boolean':
      return raw === 'true' || raw === 'false'
    case 'Array': {
      const items = raw.split(',')
      return (
        items.length <= (s.maxItems ?? Number.POSITIVE_INFINITY) &&
        items.every((i) => Value.Check(s.items as TSchema, i))
      )
    }
    default:
      return Value.Check(schema, raw)
  }
}
