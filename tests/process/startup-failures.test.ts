import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeConnectFailure } from '../../src/db/connection-failure'
import { TEST_SECRET } from '../support/app'
import { TEST_DATABASE_URL } from '../support/database'
import { freePort, runToExit, TODO_API } from '../support/processes'

const PASSWORD = 'hunter2-do-not-print'

/** Runs the server with `env` and returns the one log line it ended with (asserting it is one). */
async function failedStart(env: Record<string, string>, command: string[] = []) {
  const result = await runToExit([...TODO_API, ...command], {
    BETTER_AUTH_SECRET: TEST_SECRET,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-startup-')),
    PORT: '0',
    ...env,
  })
  expect(result.code).toBe(1)
  expect(result.stderr).toBe('')
  expect(`${result.stdout}${result.stderr}`).not.toContain(PASSWORD)
  const lines = result.stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  const line = JSON.parse(lines[0] as string)
  expect(line.level).toBe('error')
  return line.msg as string
}

const withPassword = (url: string) => {
  const u = new URL(url)
  u.password = PASSWORD
  return u.toString()
}

describe('start-up failures: one log line naming the cause, exit 1, never the password', () => {
  test('nothing listens on the database port (serve and migrate)', async () => {
    const port = freePort()
    const env = { DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${port}/todo` }
    expect(await failedStart(env)).toBe(`cannot reach PostgreSQL at 127.0.0.1:${port}: ECONNREFUSED`)
    expect(await failedStart(env, ['migrate'])).toBe(`cannot reach PostgreSQL at 127.0.0.1:${port}: ECONNREFUSED`)
  }, 30_000)

  test('the host name does not resolve', async () => {
    const msg = await failedStart({ DATABASE_URL: `postgres://app:${PASSWORD}@no-such-host.invalid:5432/todo` })
    expect(msg).toStartWith('cannot reach PostgreSQL at no-such-host.invalid:5432: E')
    expect(msg).toContain('does not resolve')
  }, 30_000)

  test('something that is not PostgreSQL answers on the port: no endless retrying', async () => {
    const impostor = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: { data: (socket) => void socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n') },
    })
    try {
      const msg = await failedStart({ DATABASE_URL: `postgres://app:${PASSWORD}@127.0.0.1:${impostor.port}/todo` })
      expect(msg).toBe(
        `cannot reach PostgreSQL at 127.0.0.1:${impostor.port}: CONNECT_TIMEOUT (no PostgreSQL answer in time)`,
      )
    } finally {
      impostor.stop(true)
    }
  }, 40_000)

  test('the HTTP port is taken', async () => {
    const taken = Bun.listen({ hostname: '0.0.0.0', port: 0, socket: { data() {} } })
    try {
      expect(await failedStart({ PORT: String(taken.port) })).toBe(`port ${taken.port} is in use`)
    } finally {
      taken.stop(true)
    }
  }, 40_000)

  describe.skipIf(!TEST_DATABASE_URL)('on a PostgreSQL server', () => {
    const on = (part: 'pathname' | 'username', value: string) => {
      const url = new URL(withPassword(TEST_DATABASE_URL as string))
      url[part] = value
      return url.toString()
    }
    const at = () => {
      const url = new URL(TEST_DATABASE_URL as string)
      return `${url.hostname}:${url.port || 5432}`
    }

    test('the database does not exist', async () => {
      const msg = await failedStart({ DATABASE_URL: on('pathname', '/no_such_database') })
      expect(msg).toBe(`PostgreSQL at ${at()}: database "no_such_database" does not exist (3D000)`)
    }, 30_000)

    test('the login is refused (no such role)', async () => {
      const msg = await failedStart({ DATABASE_URL: on('username', 'no_such_role') })
      expect(msg).toStartWith(`PostgreSQL at ${at()} refused the login: role "no_such_role" does not exist (28`)
    }, 30_000)
  })
})

describe('describeConnectFailure, for what this machine cannot produce', () => {
  const url = 'postgres://app:secret@db.example.com:6543/todo'
  const serverError = (code: string, message: string) =>
    new Error('Failed query: select pg_advisory_lock($1)\nparams: 1', {
      cause: Object.assign(new Error(message), { code, name: 'PostgresError' }),
    })

  test('a wrong password', () => {
    expect(describeConnectFailure(serverError('28P01', 'password authentication failed for user "app"'), url)).toBe(
      'PostgreSQL at db.example.com:6543 refused the login: password authentication failed for user "app" (28P01)',
    )
  })

  test('a server that requires TLS, reached without it', () => {
    const refused = serverError(
      '28000',
      'no pg_hba.conf entry for host "10.0.0.5", user "app", database "todo", SSL off',
    )
    expect(describeConnectFailure(refused, url)).toEndWith('(the server requires TLS: add sslmode=require)')
    const neon = serverError('28000', 'connection is insecure (try using `sslmode=require`)')
    expect(describeConnectFailure(neon, url)).toEndWith('(the server requires TLS: add sslmode=require)')
  })

  test('a pooler that refuses a startup parameter: the line says which setting to use', () => {
    const refused = serverError('08P01', 'unsupported startup parameter: plan_cache_mode')
    expect(describeConnectFailure(refused, url)).toBe(
      'the pooler at db.example.com:6543 refused the connection: unsupported startup parameter: plan_cache_mode (set DATABASE_POOLER=transaction, or session)',
    )
  })

  test('TLS asked of a server that does not offer it', () => {
    const reset = Object.assign(
      new Error('Client network socket disconnected before secure TLS connection was established'),
      {
        code: 'ECONNRESET',
      },
    )
    expect(describeConnectFailure(reset, url)).toBe(
      'cannot reach PostgreSQL at db.example.com:6543: ECONNRESET during the TLS handshake (sslmode requires TLS: does the server offer it?)',
    )
  })

  test('a failure that is not about reaching the database is not described', () => {
    expect(describeConnectFailure(serverError('42P01', 'relation "x" does not exist'), url)).toBeUndefined()
    expect(describeConnectFailure(new Error('boom'), url)).toBeUndefined()
  })
})
