import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import packageJson from '../../package.json'
import { type OpenApiDocument, polishDocument } from './polish'

const ASSETS = '/swagger/assets'
const SPEC_PATH = '/swagger/json'

/**
 * `/swagger` (Swagger UI) and `/swagger/json` (OpenAPI 3.1). The UI's script and stylesheet are
 * served by the app itself, so the page works offline and with a strict CSP.
 */
export const docs = () =>
  new Elysia({ name: 'docs' })
    .onAfterHandle(({ path, responseValue }) => {
      if (path === SPEC_PATH && responseValue && typeof responseValue === 'object')
        return polishDocument(responseValue as OpenApiDocument)
    })
    .get(`${ASSETS}/swagger-ui.css`, () => new Response(Bun.file(swaggerCss), { headers: cssHeaders }))
    .get(`${ASSETS}/swagger-ui-bundle.js`, () => new Response(Bun.file(swaggerBundle), { headers: jsHeaders }))
    .use(
      openapi({
        path: '/swagger',
        specPath: SPEC_PATH,
        provider: 'swagger-ui',
        exclude: { paths: [`${ASSETS}/swagger-ui.css`, `${ASSETS}/swagger-ui-bundle.js`] },
        swagger: {
          theme: `${ASSETS}/swagger-ui.css`,
          cdn: `${ASSETS}/swagger-ui-bundle.js`,
          persistAuthorization: true,
          autoDarkMode: false,
        },
        documentation: {
          info: {
            title: 'todo-api',
            version: packageJson.version,
            description:
              'Task backend for web frontends. Every `/api/{user_id}/...` route needs `Authorization: Bearer <jwt>` whose `sub` is `{user_id}`. Errors are RFC 9457 problem details (`application/problem+json`).',
          },
          tags: [
            {
              name: 'auth',
              description:
                'Accounts of this API: register or log in, then press Authorize and paste the `token` from the response',
            },
            { name: 'tasks', description: "The caller's own tasks" },
            { name: 'operations', description: 'Liveness and readiness' },
          ],
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
        },
      }),
    )

const cssHeaders = { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=86400' }
const jsHeaders = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' }
