import type { TSchema } from '@sinclair/typebox'
import { modelDefinitions } from '../../src/schema/models'
import { makeInProcessApp } from './app'

const models = modelDefinitions as Record<string, TSchema>

/** A route's schema, with a model's name read as that model. */
function schemaOf(schema: TSchema | string | undefined): TSchema | undefined {
  if (typeof schema !== 'string') return schema
  const model = models[schema]
  if (!model) throw new Error(`a route names the unknown model "${schema}"`)
  return model
}

/** One route of the app, as its own route table declares it. */
export interface RouteInfo {
  method: string
  /** Elysia's pattern, e.g. `/api/:user_id/tasks/:id`. */
  path: string
  /** Documented with bearer security: a token is required. */
  authenticated: boolean
  body?: TSchema
  query?: TSchema
  /** Answers 200 with a `text/event-stream` that stays open: read its headers, then cancel it. */
  stream: boolean
  /** Status → response schema, as documented. */
  responses: Record<string, TSchema>
  /** The route's own concrete path for a user and a task id. */
  pathFor(user: string, id?: string | number): string
}

// Served by the docs module for the Swagger UI page, not part of the API.
const NOT_API = /^\/swagger\/assets\//

/**
 * Every route of the app, read from the route table of an app built like the server builds it:
 * tests driven by this list cover a new route the day it is added.
 */
export async function routeTable(): Promise<RouteInfo[]> {
  const { app } = await makeInProcessApp()
  return app.routes
    .filter((r) => r.method !== 'OPTIONS' && !NOT_API.test(r.path))
    .map((r) => {
      const hooks = r.hooks as unknown as {
        body?: TSchema | string
        query?: TSchema
        response?: Record<string, TSchema | string>
        detail?: {
          security?: Record<string, unknown>[]
          responses?: Record<string, { content?: Record<string, unknown> }>
        }
      }
      const stream = hooks.detail?.responses?.[200]?.content?.['text/event-stream']
      return {
        method: r.method,
        path: r.path,
        authenticated: hooks.detail?.security?.some((s) => 'bearer' in s) ?? false,
        body: schemaOf(hooks.body),
        query: hooks.query,
        stream: stream !== undefined,
        responses: Object.fromEntries(
          Object.entries(hooks.response ?? {}).map(([status, schema]) => [status, schemaOf(schema) as TSchema]),
        ),
        pathFor: (user, id = 1) =>
          r.path.replace(':user_id', encodeURIComponent(user)).replace(/:(list_)?id\b/, encodeURIComponent(String(id))),
      }
    })
}

export const describeRoute = (route: RouteInfo) => `${route.method} ${route.path}`
