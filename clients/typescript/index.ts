// A typed client for todo-api: openapi-fetch over the types openapi-typescript generated from
// the API's OpenAPI document (schema.d.ts; `bun run client:generate` rewrites it).
import createClient, { type ClientOptions } from 'openapi-fetch'
import type { components, paths } from './schema'

export type { components, paths }
export type Task = components['schemas']['Task']
export type CreateTask = components['schemas']['CreateTask']
export type UpdateTask = components['schemas']['UpdateTask']
export type User = components['schemas']['User']
export type Session = components['schemas']['Session']
export type Problem = components['schemas']['Problem']

export interface TodoClientOptions extends ClientOptions {
  /** Called before each request: the current access token, if any. */
  token?: () => string | undefined | Promise<string | undefined>
}

/** `createTodoClient({ baseUrl, token })`: every route, typed from the OpenAPI document. */
export function createTodoClient({ token, ...options }: TodoClientOptions = {}) {
  const client = createClient<paths>(options)
  if (token)
    client.use({
      async onRequest({ request }) {
        const value = await token()
        if (value) request.headers.set('Authorization', `Bearer ${value}`)
        return request
      },
    })
  return client
}

export type TodoClient = ReturnType<typeof createTodoClient>
