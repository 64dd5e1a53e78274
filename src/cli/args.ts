import { parseArgs } from 'node:util'
import packageJson from '../../package.json'

export const VERSION = packageJson.version

export type Command =
  | { name: 'serve'; workers?: number }
  | { name: 'migrate' }
  | { name: 'openapi' }
  | { name: 'token'; userId: string; ttlSeconds: number; email?: string; userName?: string }
  | { name: 'help' }
  | { name: 'version' }

export const USAGE = `todo-api ${VERSION}: the task backend

Usage:
  todo-api [serve] [--workers N]   start the HTTP server (the default command)
  todo-api migrate                 apply pending database migrations and exit
  todo-api openapi                 print the OpenAPI document (JSON)
  todo-api token <user-id> [--ttl seconds] [--email a@b.c] [--name "Ada"]
                                   print a development access token for <user-id>
  todo-api --help | --version

Configuration comes from environment variables (PORT, DATABASE_URL, BETTER_AUTH_SECRET, ...):
see the README.`

/** A command line that cannot be run; `main` prints it with the usage and exits 2. */
export class UsageError extends Error {}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  workers: { type: 'string' },
  ttl: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
} as const

const OPTIONS_OF: Record<string, string[]> = { serve: ['workers'], token: ['ttl', 'email', 'name'] }

function wholeNumber(value: string, option: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new UsageError(`--${option} must be a whole number from 1 to ${max}`)
  return Number(value)
}

export function parseCommand(argv: string[]): Command {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) return { name: 'help' }
  if (values.version) return { name: 'version' }
  const [name = 'serve', ...rest] = positionals
  if (!['serve', 'migrate', 'openapi', 'token'].includes(name)) throw new UsageError(`unknown command "${name}"`)
  const given = Object.keys(values).filter((k) => values[k as keyof typeof values] !== undefined)
  const misplaced = given.find((option) => !OPTIONS_OF[name]?.includes(option))
  if (misplaced) throw new UsageError(`--${misplaced} does not go with "${name}"`)
  if (name === 'token') {
    if (rest.length !== 1) throw new UsageError('token takes exactly one <user-id>')
    return {
      name,
      userId: rest[0] as string,
      ttlSeconds: values.ttl ? wholeNumber(values.ttl, 'ttl', 365 * 86400) : 3600,
      email: values.email,
      userName: values.name,
    }
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`)
  if (name === 'serve')
    return { name, workers: values.workers ? wholeNumber(values.workers, 'workers', 64) : undefined }
  return { name } as Command
}
