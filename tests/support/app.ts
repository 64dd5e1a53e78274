import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AppDeps, createApp } from '../../src/app'
import { signAccessToken } from '../../src/auth/sign-token'
import { type Config, loadConfig } from '../../src/config'
import type { Database } from '../../src/db/client'
import { createLogger } from '../../src/logger'
import { sharedDatabase } from './database'

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789'
export const BASE = 'http://localhost'

export function testConfig(overrides: Partial<Config> = {}): Config {
  const env = { BETTER_AUTH_SECRET: TEST_SECRET, DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-test-')) }
  const config = loadConfig(env)
  // Cheap hashes keep the suite fast; production cost is tested where timing matters.
  const accounts = { ...config.accounts, passwordHash: { memoryCost: 1024, timeCost: 1 } }
  return { ...config, rateLimitPerMinute: 0, accounts, ...overrides }
}

export interface TestApp {
  app: ReturnType<typeof createApp>
  /** Every log line the app wrote, as parsed JSON. */
  logs: Record<string, unknown>[]
  /** The raw log text, for asserting that nothing secret was ever written. */
  rawLogs(): string
  request(method: string, path: string, options?: RequestOptions): Promise<Response>
}

export interface RequestOptions {
  token?: string
  /** Sent as JSON unless it is already a string. */
  body?: unknown
  headers?: Record<string, string>
}

export async function makeApp(
  options: { config?: Partial<Config>; database?: Database; deps?: Partial<AppDeps> } = {},
): Promise<TestApp> {
  const lines: string[] = []
  const logger = createLogger('debug', (line) => lines.push(line))
  const database = options.database ?? (await sharedDatabase()).database
  const app = createApp({ config: testConfig(options.config), database, logger, ...options.deps })
  return {
    app,
    get logs() {
      return lines.map((l) => JSON.parse(l))
    },
    rawLogs: () => lines.join(''),
    request(method, path, { token, body, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers } }
      const h = init.headers as Record<string, string>
      if (token) h.authorization = `Bearer ${token}`
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body)
        h['content-type'] ??= 'application/json'
      }
      return app.handle(new Request(`${BASE}${path}`, init))
    },
  }
}

export const tokenFor = (userId: string, claims: Record<string, unknown> = {}, ttlSeconds = 600) =>
  signAccessToken(TEST_SECRET, userId, ttlSeconds, claims)

/** Asserts the problem+json shape and returns the body. */
export async function expectProblem(response: Response, status: number, code: string) {
  const text = await response.text()
  const body = JSON.parse(text)
  if (response.status !== status || body.code !== code)
    throw new Error(`expected ${status} ${code}, got ${response.status}: ${text}`)
  if (!response.headers.get('content-type')?.startsWith('application/problem+json'))
    throw new Error(`expected application/problem+json, got ${response.headers.get('content-type')}`)
  for (const key of ['type', 'title', 'status', 'detail', 'code'])
    if (!(key in body)) throw new Error(`problem body lacks "${key}": ${text}`)
  if (typeof body.detail !== 'string' || body.detail.length === 0) throw new Error('problem detail is empty')
  return body as {
    type: string
    title: string
    status: number
    detail: string
    code: string
    errors?: { field: string; message: string }[]
  }
}
