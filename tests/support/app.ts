import { expect } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Treaty, treaty } from '@elysiajs/eden'
import { type App, type AppDeps, createApp } from '../../src/app'
import { signAccessToken } from '../../src/auth/sign-token'
import { type Config, loadConfig } from '../../src/config'
import type { Database } from '../../src/db/client'
import type { Problem, ProblemCode } from '../../src/http/problem'
import { createLogger } from '../../src/logger'
import { listen } from '../../src/server'
import { BINARY, spawnBinary } from './binary'
import { stopAfterTest } from './cleanup'
import { poolerEnv, sharedDatabase } from './database'

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789'
export const BASE = 'http://localhost'

/** What every test app starts from, as environment variables: the same for both targets. */
const BASE_ENV: Record<string, string> = {
  BETTER_AUTH_SECRET: TEST_SECRET,
  // The per-user limiter would trip over the suite's bursts; tests that need it set it.
  RATE_LIMIT_PER_MINUTE: '0',
  LOG_LEVEL: 'debug',
}

export interface AppOptions {
  /** Environment variables, exactly as an operator would set them for the server. */
  env?: Record<string, string>
  /**
   * In process, passwords are hashed at a tiny argon2 cost to keep the suite fast; this asks for
   * the production cost. The binary always runs at the production cost.
   */
  realPasswordCost?: boolean
}

export interface RequestOptions {
  token?: string
  /** Sent as JSON unless it is a string, a Blob or a stream, which are sent as they are. */
  body?: unknown
  headers?: Record<string, string>
}

/** The API as an Eden Treaty client typed by the server's own `App`: calls checked at compile time. */
export type Client = Treaty.Create<App>

/** The API under test: the compiled binary (TEST_BINARY) or the app in this process. */
export interface TestApp {
  /** `binary` when requests go to a spawned `dist/todo-api`. */
  target: 'binary' | 'in-process'
  /**
   * The typed client, without a token. Bodies, queries, path parameters and answers are those
   * of the contract; what it cannot express (malformed or hostile input) goes through `request`.
   */
  client: Client
  /** The typed client sending `Authorization: Bearer <token>` on every call. */
  as(token: string): Client
  /**
   * Every log line the server wrote for the requests answered so far, as parsed JSON. A process
   * writes its lines after it answers: this waits until they have all arrived.
   */
  logs(): Promise<Record<string, unknown>[]>
  /** The raw log text (stderr too), for asserting that nothing secret was ever written. */
  rawLogs(): Promise<string>
  request(method: string, path: string, options?: RequestOptions): Promise<Response>
  /** Sends a whole Request (its path and query count, not its host): for client libraries. */
  fetch(request: Request): Promise<Response>
  /** A real socket to the server (`http://127.0.0.1:port`), for tests of the transport itself. */
  origin(): Promise<string>
  /** CPU time the server process has used so far, in milliseconds (user + system). */
  serverCpuMs(): Promise<number>
}

const ownCpuMs = async () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

// utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
async function cpuMsOf(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text()
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

export function testConfig(env: Record<string, string> = {}, realPasswordCost = false): Config {
  const config = loadConfig({ ...BASE_ENV, DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-test-')), ...env })
  if (realPasswordCost) return config
  return { ...config, accounts: { ...config.accounts, passwordHash: { memoryCost: 1024, timeCost: 1 } } }
}

function toInit(method: string, { token, body, headers = {} }: RequestOptions): RequestInit {
  const h: Record<string, string> = { ...headers }
  const init: RequestInit = { method, headers: h }
  if (token) h.authorization = `Bearer ${token}`
  if (body !== undefined) {
    const raw = typeof body === 'string' || body instanceof Blob || body instanceof ReadableStream
    init.body = raw ? (body as RequestInit['body']) : JSON.stringify(body)
    if (!(body instanceof Blob)) h['content-type'] ??= 'application/json'
  }
  return init
}

/**
 * The HTTP API under test, configured by environment variables. With TEST_BINARY set, a fresh
 * `dist/todo-api` process is started on the run's database for each call (and stopped after
 * the test); otherwise the app is built in this process with `createApp`, as `main` builds it.
 */
export async function makeApp(options: AppOptions = {}): Promise<TestApp> {
  const env = { ...BASE_ENV, ...options.env }
  if (BINARY) {
    const { url } = await sharedDatabase()
    const server = await spawnBinary(BINARY, { ...poolerEnv(), ...env, DATABASE_URL: url as string })
    // A request sent after the others is logged after them: once its line is in, so are theirs.
    let marks = 0
    const settle = async () => {
      const id = `logs-settled-${++marks}`
      await (await fetch(`${server.origin}/health`, { headers: { 'x-request-id': id } })).text()
      for (let waited = 0; !server.lines.some((l) => l.includes(`"request_id":"${id}"`)); waited += 5) {
        if (waited > 5000) throw new Error('the server did not log a request within 5 s')
        await Bun.sleep(5)
      }
    }
    return withClient({
      target: 'binary',
      async logs() {
        await settle()
        return server.lines
          .filter((l) => l.startsWith('{') && !l.includes('"request_id":"logs-settled-'))
          .map((l) => JSON.parse(l))
      },
      async rawLogs() {
        await settle()
        return `${server.lines.join('\n')}\n${server.stderr()}`
      },
      request: (method, path, opts = {}) => fetch(`${server.origin}${path}`, toInit(method, opts)),
      fetch: (request) => {
        const { pathname, search } = new URL(request.url)
        return fetch(new Request(`${server.origin}${pathname}${search}`, request))
      },
      origin: async () => server.origin,
      serverCpuMs: () => cpuMsOf(server.proc.pid),
    })
  }
  return inProcess(testConfig(options.env, options.realPasswordCost))
}

export interface InProcessApp extends TestApp {
  app: ReturnType<typeof createApp>
}

/**
 * The app in this process only: for tests that inject what no environment variable can (a
 * database that is down, a verifier that throws). Such tests do not belong in tests/http.
 */
export async function makeInProcessApp(
  options: AppOptions & { database?: Database; deps?: Partial<AppDeps> } = {},
): Promise<InProcessApp> {
  return inProcess(testConfig(options.env, options.realPasswordCost), options.database, options.deps)
}

async function inProcess(config: Config, database?: Database, deps: Partial<AppDeps> = {}): Promise<InProcessApp> {
  const lines: string[] = []
  const logger = createLogger('debug', (line) => lines.push(line))
  const db = database ?? (await sharedDatabase()).database
  const app = createApp({ config, database: db, logger, ...deps })
  let listening: ReturnType<typeof listen> | undefined
  return withClient({
    target: 'in-process',
    app,
    logs: async () => lines.map((l) => JSON.parse(l)),
    rawLogs: async () => lines.join(''),
    serverCpuMs: ownCpuMs,
    request: (method, path, opts = {}) => app.handle(new Request(`${BASE}${path}`, toInit(method, opts))),
    fetch: (request) => {
      const { pathname, search } = new URL(request.url)
      return app.handle(new Request(`${BASE}${pathname}${search}`, request))
    },
    async origin() {
      if (!listening) {
        listening = listen({ app, database: db, config, logger }, { port: 0 })
        const server = listening
        stopAfterTest(() => server.stop(true))
      }
      return `http://127.0.0.1:${listening.port}`
    },
  })
}

/**
 * Adds the typed client, sending through the app's own `fetch` so that it reaches either target.
 * Eden calls its fetcher as fetch(url, init). `parseDate: false` keeps strings as the server sent
 * them: by default Eden turns every date-like string (a `due_date`, even a title) into a Date.
 */
function withClient<T extends Omit<TestApp, 'client' | 'as'>>(app: T): T & Pick<TestApp, 'client' | 'as'> {
  const fetcher = ((input: string, init?: RequestInit) => app.fetch(new Request(input, init))) as typeof fetch
  const client = (headers?: Record<string, string>) => treaty<App>(BASE, { fetcher, parseDate: false, headers })
  return { ...app, client: client(), as: (token) => client({ authorization: `Bearer ${token}` }) }
}

export const tokenFor = (userId: string, claims: Record<string, unknown> = {}, ttlSeconds = 600) =>
  signAccessToken(TEST_SECRET, userId, ttlSeconds, claims)

/** What a call of the typed client answers (an Eden Treaty result). */
export interface ClientResult {
  status: number
  data: unknown
  error: { status: unknown; value: unknown } | null
  response: Response
}

/** The error statuses the contract documents for the route a result came from. */
type DocumentedError<R> = R extends { error: { status: infer S } } ? S : never

type SuccessStatus = 200 | 201 | 204

/** Asserts a success of this status and returns its body, typed by the contract. */
export function expectStatus<R extends ClientResult>(result: R, status: SuccessStatus): NonNullable<R['data']> {
  const body = JSON.stringify(result.error?.value ?? result.data)
  expect(result.status, `expected ${status}, got ${result.status}: ${body}`).toBe(status)
  return result.data as NonNullable<R['data']>
}

/** The body of a raw response, as the type the test expects it to have. */
export const json = <T>(response: Response) => response.json() as Promise<T>

/**
 * Asserts the problem+json shape and returns the body. For a typed client's result, the status
 * must be one the route documents: a test expecting any other does not compile.
 */
export async function expectProblem(response: Response, status: number, code: ProblemCode): Promise<Problem>
export async function expectProblem<R extends ClientResult>(
  result: R,
  status: DocumentedError<R>,
  code: ProblemCode,
): Promise<Problem>
export async function expectProblem(
  answer: Response | ClientResult,
  status: unknown,
  code: ProblemCode,
): Promise<Problem> {
  const response = answer instanceof Response ? answer : answer.response
  const text = answer instanceof Response ? await answer.text() : JSON.stringify(answer.error?.value ?? answer.data)
  const body = answer instanceof Response ? JSON.parse(text) : answer.error?.value
  if (response.status !== status || body?.code !== code)
    throw new Error(`expected ${status} ${code}, got ${response.status}: ${text}`)
  if (!response.headers.get('content-type')?.startsWith('application/problem+json'))
    throw new Error(`expected application/problem+json, got ${response.headers.get('content-type')}`)
  for (const key of ['type', 'title', 'status', 'detail', 'code'])
    if (!(key in body)) throw new Error(`problem body lacks "${key}": ${text}`)
  if (typeof body.detail !== 'string' || body.detail.length === 0) throw new Error('problem detail is empty')
  return body as Problem
}
