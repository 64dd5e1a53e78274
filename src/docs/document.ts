import { Kind, OptionalKind, TransformKind, type TSchema } from '@sinclair/typebox'
import { PROBLEM_CONTENT_TYPE } from '../http/problem'

// The OpenAPI 3.1 document, generated from what the app itself runs on: its route table (paths,
// methods, each route's params, query, body and response map, and its `detail`) and its named
// models. It is built once, after every route is registered, and never changed afterwards.

type Json = Record<string, unknown>

export interface RouteEntry {
  method: string
  path: string
  hooks: {
    params?: TSchema
    query?: TSchema
    body?: TSchema | string
    response?: Record<string, TSchema | string>
    detail?: Json & { responses?: Record<string, Json>; security?: unknown[]; parameters?: Json[] }
  }
}

export interface DocumentSource {
  routes: readonly RouteEntry[]
  /** Named models: `components.schemas`, and what string references in routes name. */
  models: Record<string, TSchema>
  /** Everything outside `paths` and `components.schemas`: info, servers, tags, security schemes. */
  base: Json & { components?: Json }
  /** Routes left out of the document (the documentation's own pages). */
  hidden?: (path: string) => boolean
}

// The JSON Schema keywords the document keeps. Validation-only annotations (`errorMessage`,
// `trim`, `x-param`, TypeBox's kinds) stay out: they mean nothing to a client generator.
const KEYWORDS = new Set([
  'type',
  'description',
  'examples',
  'default',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'enum',
  'const',
  'title',
])

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  400: 'Invalid request: a field, a parameter, malformed JSON, or JSON nested too deep',
  401: 'Missing, malformed, expired or badly signed token (with WWW-Authenticate: Bearer)',
  403: 'The token is valid but the path names another user',
  404: 'No such resource for this user (unknown, foreign, or an id that cannot exist)',
  409: 'Conflicts with an existing record',
  413: 'Body larger than the limit (64 KiB by default)',
  415: 'Body is not JSON',
  429: 'Too many requests (with Retry-After)',
  503: 'The database or the token issuer is unreachable, or the server is saturated (with Retry-After)',
  default: 'An unexpected error (500): a generic problem; the details are in the server log',
}

const header = (description: string, type = 'string') => ({ description, schema: { type } })
const REQUEST_ID = header('The request id, echoed from the request or generated')
// Routes with a limit (those that can answer 429) count requests and say so on their answers.
const QUOTA_HEADERS = {
  'RateLimit-Policy': header('The limits that apply, e.g. `"user";q=600;w=60` (IETF httpapi ratelimit-headers)'),
  RateLimit: header('What is left of each, e.g. `"user";r=599;t=60`'),
}
const STATUS_HEADERS: Record<string, Json> = {
  401: { 'WWW-Authenticate': header('Bearer challenge') },
  429: { 'Retry-After': header('Seconds to wait before trying again', 'integer') },
  503: { 'Retry-After': header('Seconds to wait before trying again', 'integer') },
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** Where a schema is read: what a client sends is closed to unknown fields, what it receives is not. */
type Direction = 'request' | 'response'

/** Converts schemas to the document's JSON Schema, naming the named models by reference. */
class SchemaWriter {
  private readonly names = new Map<TSchema, string>()

  constructor(readonly models: Record<string, TSchema>) {
    for (const [name, schema] of Object.entries(models)) this.names.set(schema, name)
  }

  /**
   * `schema` as it appears in a request or a response. Responses never claim to be closed:
   * Elysia marks response schemas `additionalProperties: false` when it compiles a route, and a
   * client must in any case accept fields added later.
   */
  write(schema: TSchema | string, direction: Direction, top = true): Json {
    if (typeof schema === 'string') {
      if (!this.models[schema]) throw new Error(`the OpenAPI document names an unknown model "${schema}"`)
      return ref(schema)
    }
    const named = this.names.get(schema)
    if (named && !top) return ref(named)
    // Elysia's query and path numbers, booleans and lists are a union of the value and its text,
    // decoded on the way in: a client sends the value, so the value's schema is what it sees.
    if ((schema as unknown as Record<symbol, unknown>)[TransformKind] && Array.isArray(schema.anyOf)) {
      const value = (schema.anyOf as TSchema[]).find((arm) => arm.type !== 'string') ?? (schema.anyOf[0] as TSchema)
      return this.write({ ...value, description: schema.description, examples: schema.examples }, direction, false)
    }
    const out: Json = {}
    for (const [key, value] of Object.entries(schema)) if (KEYWORDS.has(key) && value !== undefined) out[key] = value
    if (schema[Kind] === 'Union' || Array.isArray(schema.anyOf))
      out.anyOf = (schema.anyOf as TSchema[]).map((arm) => this.write(arm, direction, false))
    if (schema.items) out.items = this.write(schema.items as TSchema, direction, false)
    if (schema.type === 'object') {
      const properties = (schema.properties ?? {}) as Record<string, TSchema>
      out.properties = Object.fromEntries(
        Object.entries(properties).map(([k, v]) => [k, this.write(v, direction, false)]),
      )
      const required = Object.keys(properties).filter(
        (k) => !(properties[k] as unknown as Record<symbol, unknown>)[OptionalKind],
      )
      if (required.length > 0) out.required = required
      if (direction === 'request' && schema.additionalProperties === false) out.additionalProperties = false
      // An open object (a batch operation's `data`) or a map (`t.Record`): say what its values are.
      if (schema.additionalProperties === true) out.additionalProperties = true
      const [mapped] = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>)
      if (mapped) out.additionalProperties = this.write(mapped, direction, false)
    }
    return out
  }
}

const isVoid = (schema: TSchema | string | undefined) =>
  schema !== undefined && typeof schema !== 'string' && schema[Kind] === 'Void'

/** A body every one of whose fields may be left out may also be left out whole. */
function bodyOptional(schema: TSchema): boolean {
  return (schema.required as string[] | undefined)?.length === 0 || (!schema.required && !schema.minProperties)
}

function parameters(writer: SchemaWriter, route: RouteEntry): Json[] {
  const out: Json[] = []
  const declared = Object.keys((route.hooks.params?.properties ?? {}) as object)
  for (const [, name] of route.path.matchAll(/:([^/]+)/g))
    if (name && !declared.includes(name)) out.push({ name, in: 'path', required: true, schema: { type: 'string' } })
  for (const [where, schema] of [
    ['path', route.hooks.params],
    ['query', route.hooks.query],
  ] as const) {
    const properties = (schema?.properties ?? {}) as Record<string, TSchema>
    for (const [name, property] of Object.entries(properties)) {
      const written = writer.write(property, 'request', false)
      const { description, ...rest } = written
      out.push({
        name,
        in: where,
        required: where === 'path' || !(property as unknown as Record<symbol, unknown>)[OptionalKind],
        ...(description ? { description } : {}),
        schema: rest,
      })
    }
  }
  return out
}

function responses(writer: SchemaWriter, route: RouteEntry): Json {
  const declared = route.hooks.response ?? {}
  const extra = route.hooks.detail?.responses ?? {}
  const out: Json = {}
  const limited = '429' in declared
  for (const [status, schema] of [...Object.entries(declared), ['default', 'Problem'] as const]) {
    const given = (extra[status] ?? {}) as { description?: string; headers?: Json; content?: Json }
    // A route may name another media type for its schema (an event stream's text/event-stream).
    const mediaType = Object.keys(given.content ?? {})[0]
    const error = status === 'default' || Number(status) >= 400
    const counted = limited && (Number(status) < 300 || status === '429')
    out[status] = {
      description: given.description ?? STATUS_TEXT[status] ?? `Status ${status}`,
      headers: {
        'X-Request-Id': REQUEST_ID,
        ...(counted ? QUOTA_HEADERS : {}),
        ...STATUS_HEADERS[status],
        ...given.headers,
      },
      ...(isVoid(schema)
        ? {}
        : {
            content: {
              [mediaType ?? (error ? PROBLEM_CONTENT_TYPE : 'application/json')]: {
                schema: writer.write(schema, 'response'),
              },
            },
          }),
    }
  }
  return out
}

function operation(writer: SchemaWriter, route: RouteEntry): Json {
  const { responses: _, security, parameters: declared = [], ...detail } = route.hooks.detail ?? {}
  const body = route.hooks.body
  // Header parameters a route declares in its `detail` (e.g. Idempotency-Key) come after its own.
  const params = [...parameters(writer, route), ...(declared as Json[])]
  const bodySchema = typeof body === 'string' ? writer.models[body] : body
  return {
    ...detail,
    // Public operations say so: the document's default is bearer authentication.
    security: security ?? [],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body !== undefined && bodySchema
      ? {
          requestBody: {
            required: !bodyOptional(bodySchema),
            content: { 'application/json': { schema: writer.write(body, 'request') } },
          },
        }
      : {}),
    responses: responses(writer, route),
  }
}

/** The whole document, as plain JSON: nothing in it is shared with the live route schemas. */
export function buildOpenApiDocument({ routes, models, base, hidden = () => false }: DocumentSource): Json {
  const writer = new SchemaWriter(models)
  const paths: Record<string, Json> = {}
  for (const route of routes) {
    const method = route.method.toLowerCase()
    if (method === 'options' || hidden(route.path) || route.hooks.detail?.hide) continue
    const path = route.path.replace(/:([^/]+)/g, '{$1}')
    paths[path] ??= {}
    ;(paths[path] as Json)[method] = operation(writer, route)
  }
  // A model is a request model when some route takes it as its body.
  const requestModels = new Set(routes.map((r) => r.hooks.body).filter((b): b is string => typeof b === 'string'))
  const schemas = Object.fromEntries(
    Object.entries(models).map(([name, schema]) => [
      name,
      writer.write(schema, requestModels.has(name) ? 'request' : 'response'),
    ]),
  )
  const document = { ...base, paths, components: { ...base.components, schemas } }
  return JSON.parse(JSON.stringify(document))
}
