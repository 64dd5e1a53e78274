// The OpenAPI plugin documents what it can see in route schemas; this fills in what it cannot:
// the problem+json media type of errors, response headers, optional bodies, and plain integer
// parameters (Elysia's coercing integers render as "string or integer").

interface Schema {
  anyOf?: Schema[]
  type?: string
  [key: string]: unknown
}
interface Response {
  description?: string
  content?: Record<string, unknown>
  headers?: Record<string, unknown>
}
interface Operation {
  parameters?: { schema?: Schema }[]
  requestBody?: { required?: boolean }
  responses?: Record<string, Response>
  /** Route marker: the body may be left out entirely. */
  'x-optional-body'?: boolean
  /** Route marker: extra headers per status, e.g. `{ 201: ['Location'] }`. */
  'x-response-headers'?: Record<string, string[]>
}
export interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation>>
}

const HEADERS: Record<string, { description: string; schema: Schema }> = {
  'X-Request-Id': { description: 'The request id, echoed from the request or generated', schema: { type: 'string' } },
  'WWW-Authenticate': { description: 'Bearer challenge', schema: { type: 'string' } },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
  Location: { description: 'URL of the created resource', schema: { type: 'string' } },
  Link: {
    description: 'URL of the next page, as `<url>; rel="next"`, while more rows exist',
    schema: { type: 'string' },
  },
}

function headersFor(status: number, extra: string[] = []): string[] {
  const names = ['X-Request-Id', ...extra]
  if (status === 401) names.push('WWW-Authenticate')
  if (status === 429 || status === 503) names.push('Retry-After')
  return names
}

/** `anyOf: [numeric string, integer]` becomes the plain integer, keeping the annotations. */
function plainInteger(schema: Schema): Schema {
  const integer = schema.anyOf?.find((s) => s.type === 'integer')
  if (!integer) return schema
  const { anyOf: _, ...annotations } = schema
  return { ...annotations, ...integer }
}

export function polishDocument<T extends OpenApiDocument>(doc: T): T {
  for (const operations of Object.values(doc.paths ?? {}))
    for (const op of Object.values(operations)) {
      for (const parameter of op.parameters ?? [])
        if (parameter.schema) parameter.schema = plainInteger(parameter.schema)
      if (op['x-optional-body'] && op.requestBody) op.requestBody.required = false
      for (const [code, response] of Object.entries(op.responses ?? {})) {
        const status = Number(code)
        if (status >= 400 && response.content?.['application/json'])
          response.content = { 'application/problem+json': response.content['application/json'] }
        const names = headersFor(status, op['x-response-headers']?.[code])
        response.headers = Object.fromEntries(names.map((name) => [name, HEADERS[name]]))
      }
      delete op['x-optional-body']
      delete op['x-response-headers']
    }
  return doc
}
