import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jwtVerify } from 'jose'
import packageJson from '../../package.json'
import { parseCommand, UsageError } from '../../src/cli/args'
import { TEST_SECRET } from '../support/app'
import { TODO_API } from '../support/processes'

describe('command line', () => {
  test.each([
    [[], { name: 'serve', workers: undefined }],
    [['serve'], { name: 'serve', workers: undefined }],
    [['serve', '--workers', '4'], { name: 'serve', workers: 4 }],
    [['--workers', '2'], { name: 'serve', workers: 2 }],
    [['migrate'], { name: 'migrate' }],
    [['openapi'], { name: 'openapi' }],
    [
      ['token', 'ada', '--ttl', '60', '--email', 'a@b.co'],
      { name: 'token', userId: 'ada', ttlSeconds: 60, email: 'a@b.co', userName: undefined },
    ],
    [['--help'], { name: 'help' }],
    [['-v'], { name: 'version' }],
  ])('%p', (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected as ReturnType<typeof parseCommand>)
  })

  test.each([
    [['serve', 'extra'], 'unexpected argument'],
    [['launch'], 'unknown command "launch"'],
    [['--port', '80'], "Unknown option '--port'"],
    [['token'], 'exactly one <user-id>'],
    [['token', 'a', 'b'], 'exactly one <user-id>'],
    [['migrate', '--workers', '2'], '--workers does not go with "migrate"'],
    [['serve', '--workers', '0'], '--workers must be a whole number'],
    [['token', 'ada', '--ttl', '1.5'], '--ttl must be a whole number'],
  ])('%p is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError)
    expect(() => parseCommand(argv)).toThrow(message)
  })
})

describe('the entry point', () => {
  const env = {
    PATH: Bun.env.PATH ?? '',
    BETTER_AUTH_SECRET: TEST_SECRET,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'todo-api-cli-')),
  }
  const run = (...args: string[]) => Bun.spawnSync([...TODO_API, ...args], { env, stdout: 'pipe', stderr: 'pipe' })

  test('--version and --help', () => {
    expect(run('--version').stdout.toString().trim()).toBe(packageJson.version)
    const help = run('--help')
    expect(help.exitCode).toBe(0)
    expect(help.stdout.toString()).toContain('todo-api migrate')
  })

  test('an unknown argument prints the problem and the usage, and exits 2', () => {
    const result = run('--bogus')
    expect(result.exitCode).toBe(2)
    expect(result.stderr.toString()).toStartWith("todo-api: Unknown option '--bogus'")
    expect(result.stderr.toString()).toContain('Usage:')
  })

  test('token prints a token the API accepts for that user', async () => {
    const result = run('token', 'ada', '--ttl', '120', '--name', 'Ada')
    expect(result.exitCode).toBe(0)
    const { payload } = await jwtVerify(result.stdout.toString().trim(), new TextEncoder().encode(TEST_SECRET), {
      algorithms: ['HS256'],
    })
    expect(payload).toMatchObject({ sub: 'ada', name: 'Ada' })
    expect((payload.exp as number) - (payload.iat as number)).toBe(120)
  })

  test('openapi prints the document without touching a database', () => {
    const result = run('openapi')
    expect(result.exitCode).toBe(0)
    const doc = JSON.parse(result.stdout.toString())
    expect(doc.openapi).toStartWith('3.1')
    expect(doc.paths['/api/auth/login']).toBeDefined()
  })
})
