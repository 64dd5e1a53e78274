import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './processes'

export interface PgBouncer {
  /** `upstream` with the host and port replaced by the pooler's. */
  url(upstream: string): string
  /** Its log so far (connections, refusals), for a failure message. */
  log(): string
  stop(): Promise<void>
}

export interface PgBouncerOptions {
  /** Server connections per database and user: fewer than the clients', so that they are shared. */
  poolSize?: number
}

/** Debian's package puts it outside a normal user's PATH. */
const binary = () => Bun.which('pgbouncer') ?? Bun.which('pgbouncer', { PATH: '/usr/sbin:/usr/bin' })

/**
 * A real PgBouncer in transaction mode, as hosted Postgres puts in front by default: trust
 * auth, every database of `upstream`'s server, on a free port, with its stock refusal of
 * startup parameters it does not know (no ignore_startup_parameters). It refuses to run as
 * root, so as root it drops to the `postgres` user (-u).
 */
export async function startPgBouncer(upstream: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const executable = binary()
  if (!executable) throw new Error('pgbouncer is not installed (apt-get install -y pgbouncer)')
  const target = new URL(upstream)
  const user = decodeURIComponent(target.username || 'postgres')
  const dir = mkdtempSync(join(tmpdir(), 'todo-api-pgbouncer-'))
  chmodSync(dir, 0o755)
  const port = freePort()
  const ini = join(dir, 'pgbouncer.ini')
  const users = join(dir, 'userlist.txt')
  writeFileSync(users, `"${user}" ""\n`)
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 5}`,
      'max_client_conn = 1000',
      '',
    ].join('\n'),
  )
  const root = userInfo().uid === 0
  const proc = Bun.spawn([executable, ...(root ? ['-u', 'postgres'] : []), ini], {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let log = ''
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) log += new TextDecoder().decode(chunk)
  }
  void collect(proc.stdout)
  void collect(proc.stderr)
  // Stopped with this process at the latest, whatever happens to the test run.
  const kill = () => proc.kill()
  process.once('exit', kill)
  for (let waited = 0; !log.includes('process up'); waited += 20) {
    if (proc.exitCode !== null || waited > 5000) {
      proc.kill()
      throw new Error(`pgbouncer did not start: ${log}`)
    }
    await Bun.sleep(20)
  }
  return {
    url(of) {
      const pooled = new URL(of)
      pooled.hostname = '127.0.0.1'
      pooled.port = String(port)
      return pooled.toString()
    },
    log: () => log,
    async stop() {
      process.off('exit', kill)
      proc.kill()
      await proc.exited
    },
  }
}
