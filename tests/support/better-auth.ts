import { betterAuth } from 'better-auth'
import { memoryAdapter } from 'better-auth/adapters/memory'
import { type JwtOptions, jwt } from 'better-auth/plugins/jwt'
import { stopAfterTest } from './cleanup'

export type BetterAuthAlgorithm = NonNullable<NonNullable<JwtOptions['jwks']>['keyPairConfig']>['alg']

interface StoredKey {
  id: string
  createdAt: Date
  expiresAt?: Date
}

/**
 * A real Better Auth server with its JWT plugin, in this process on a loopback port, as an
 * operator's frontend would run it: the API under test (in process or the binary) fetches its
 * JWKS over HTTP. Its in-memory store is at hand, so a test can rotate keys the way Better Auth
 * does when `rotationInterval` passes (the newest key expires; the next token gets a new one,
 * the old key stays published for the grace period), or end that grace period at once.
 */
export async function startBetterAuth(options: { alg?: BetterAuthAlgorithm; userIds?: string[] } = {}) {
  const store: Record<string, Record<string, unknown>[]> = {
    user: [],
    session: [],
    account: [],
    verification: [],
    jwks: [],
  }
  const jwks = { requests: 0, down: false }
  let handle = (_: Request): Promise<Response> => Promise.resolve(new Response('starting', { status: 503 }))
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(request) {
      if (new URL(request.url).pathname === '/api/auth/jwks') {
        jwks.requests++
        if (jwks.down) return new Response('upstream down', { status: 502 })
      }
      return handle(request)
    },
  })
  stopAfterTest(() => server.stop(true))
  const url = `http://127.0.0.1:${server.port}`
  const auth = betterAuth({
    baseURL: url,
    secret: 'better-auth-test-secret-0123456789abcdef',
    database: memoryAdapter(store),
    emailAndPassword: { enabled: true },
    plugins: [jwt({ jwks: { keyPairConfig: { alg: options.alg ?? 'EdDSA' } as never } })],
    // An issuer whose user ids are chosen for it (a custom generateId, an administrator, an
    // import): the next sign-ups get these ids, in order.
    advanced: options.userIds && {
      database: {
        generateId: ({ model }: { model: string }) =>
          (model === 'user' && options.userIds?.shift()) || crypto.randomUUID().replaceAll('-', ''),
      },
    },
    logger: { disabled: true },
    telemetry: { enabled: false },
  })
  handle = auth.handler
  const keys = () => store.jwks as unknown as StoredKey[]

  return {
    url,
    /** What an operator sets: the JWKS, issuer and audience all follow from it. */
    env: { BETTER_AUTH_URL: url },
    jwks,
    /** Signs up at Better Auth; answers the session cookie, the opaque session token and the user id. */
    async signUp(email: string, name: string) {
      const res = await auth.api.signUpEmail({ body: { email, password: 'password-1234', name }, asResponse: true })
      if (!res.ok) throw new Error(`sign-up failed: ${res.status} ${await res.text()}`)
      const body = (await res.json()) as { token: string; user: { id: string } }
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ')
      return { cookie, sessionToken: body.token, id: body.user.id }
    },
    /** The JWT a frontend gets from GET /api/auth/token. */
    async token(cookie: string): Promise<string> {
      const res = await auth.handler(new Request(`${url}/api/auth/token`, { headers: { cookie } }))
      if (!res.ok) throw new Error(`token failed: ${res.status}`)
      return ((await res.json()) as { token: string }).token
    },
    async rename(cookie: string, name: string) {
      await auth.api.updateUser({ headers: new Headers({ cookie }), body: { name } })
    },
    /** An address change, made in Better Auth's store (as an administrator would). */
    setEmail(userId: string, email: string) {
      const user = store.user?.find((u) => u.id === userId)
      if (!user) throw new Error(`no user ${userId}`)
      user.email = email
    },
    /** Better Auth's rotation: the current keys expire, so the next token is signed with a new key. */
    rotate() {
      for (const key of keys()) key.expiresAt = new Date(Date.now() - 1)
    },
    /** The end of the grace period: expired keys leave the published key set. */
    retireExpiredKeys() {
      for (const key of keys()) if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) key.expiresAt = new Date(0)
    },
    publishedKeyIds: () => keys().map((k) => k.id),
  }
}
