/// <reference path="../file-imports.d.ts" />
import { openapi } from '@elysiajs/openapi'
import { type AnyElysia, Elysia } from 'elysia'
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import packageJson from '../../package.json'
import { modelDefinitions } from '../schema/models'
import { buildOpenApiDocument, type RouteEntry } from './document'

const ASSETS = '/swagger/assets'
const SPEC_PATH = '/swagger/json'

/** Everything in the document that is not a path or a model. */
const BASE = {
  openapi: '3.1.0' as const,
  info: {
    title: 'todo-api',
    version: packageJson.version,
    description:
      'Task backend for web frontends. Every `/api/{user_id}/...` route needs `Authorization: Bearer <jwt>` whose `sub` is `{user_id}`, except the calendar feed (`calendar.ics`), which takes its own key. Errors are RFC 9457 problem details (`application/problem+json`).',
    license: { name: packageJson.license },
  },
  servers: [{ url: '/', description: 'The server that serves this document' }],
  tags: [
    {
      name: 'auth',
      description:
        'Accounts of this API: register or log in, then press Authorize and paste the `token` from the response',
    },
    { name: 'tasks', description: "The caller's own tasks" },
    { name: 'lists', description: "The caller's lists of tasks" },
    {
      name: 'sync',
      description: 'Keeping a client in step: the change feed, and a queue of changes sent as one batch',
    },
    { name: 'trash', description: 'Deleted tasks: restore them, or delete them for good' },
    { name: 'calendar', description: 'Your due tasks as an iCalendar feed for calendar apps, and the key of its URL' },
    { name: 'reminders', description: 'Reminders of tasks that fired: list them, acknowledge them' },
    { name: 'operations', description: 'Liveness and readiness' },
  ],
  // Every operation needs a token unless it says otherwise (`security: []`).
  security: [{ bearer: [] }],
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'HS256 with BETTER_AUTH_SECRET, or EdDSA/ES256/RS256 from the Better Auth JWKS',
      },
    },
  },
}

/** The OpenAPI document of `app`, from its route table and the named models. */
export const documentOf = (app: AnyElysia) =>
  buildOpenApiDocument({
    routes: app.routes as unknown as RouteEntry[],
    models: modelDefinitions,
    base: BASE,
    hidden: (path) => path.startsWith('/swagger'),
  })

/**
 * `/swagger` (Swagger UI) and `/swagger/json` (OpenAPI 3.1), registered after every API route:
 * the document is built once from the finished route table and served as it is. The plugin's
 * own generator is given no paths (`exclude`); `documentation` is the whole document. The UI's
 * script and stylesheet are served by the app itself, so the page works offline and with a
 * strict CSP.
 */
export const docs = (document: ReturnType<typeof documentOf>) =>
  new Elysia({ name: 'docs' })
    .get(`${ASSETS}/swagger-ui.css`, () => new Response(Bun.file(swaggerCss), { headers: cssHeaders }), {
      detail: { hide: true },
    })
    .get(`${ASSETS}/swagger-ui-bundle.js`, () => new Response(Bun.file(swaggerBundle), { headers: jsHeaders }), {
      detail: { hide: true },
    })
    .use(
      openapi({
        path: '/swagger',
        specPath: SPEC_PATH,
        provider: 'swagger-ui',
        openapiVersion: BASE.openapi,
        exclude: { paths: [/./] },
        swagger: {
          theme: `${ASSETS}/swagger-ui.css`,
          cdn: `${ASSETS}/swagger-ui-bundle.js`,
          persistAuthorization: true,
          autoDarkMode: false,
        },
        documentation: document,
      }),
    )

const cssHeaders = { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=86400' }
const jsHeaders = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' }
