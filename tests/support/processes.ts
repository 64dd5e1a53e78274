import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'

export const MAIN = join(import.meta.dir, '../../src/main.ts')

/** Set (to `dist/todo-api`, say) to run the HTTP and process tests against the compiled binary. */
export const BINARY = Bun.env.TEST_BINARY ? resolve(Bun.env.TEST_BINARY) : undefined

/** How tests start todo-api: the binary under test, or `bun src/main.ts`. */
export const TODO_API: readonly string[] = BINARY ? [BINARY] : ['bun', MAIN]

export interface RunningServer {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  port: number
  /** Every stdout line so far (the JSON log). */
  lines: string[]
  /** Everything written to stderr so far. */
  stderr: () => string
}

/** Starts `bun src/main.ts` (or `command`) and waits for its "listening" log line. */
export async function startServer(
  env: Record<string, string>,
  {
    command = [...TODO_API],
    waitFor = '"msg":"listening"',
    cwd,
  }: { command?: string[]; waitFor?: string; cwd?: string } = {},
): Promise<RunningServer> {
  const proc = Bun.spawn(command, {
    cwd,
    env: { PATH: Bun.env.PATH ?? '', HOME: Bun.env.HOME ?? '/tmp', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const lines: string[] = []
  let errors = ''
  void (async () => {
    for await (const chunk of proc.stderr) errors += new TextDecoder().decode(chunk)
  })()
  const decoder = new TextDecoder()
  let buffered = ''
  const { promise: ready, resolve, reject } = Promise.withResolvers<number>()
  void (async () => {
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk)
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        if (line.includes(waitFor)) resolve(JSON.parse(line).port)
      }
    }
    reject(new Error(`exited before "${waitFor}": ${lines.join('\n')} ${errors}`))
  })()
  const timer = setTimeout(() => reject(new Error(`no "${waitFor}" within 30 s: ${lines.join('\n')}`)), 30_000)
  try {
    return { proc, port: await ready, lines, stderr: () => errors }
  } catch (error) {
    proc.kill()
    throw error
  } finally {
    clearTimeout(timer)
  }
}

export interface Finished {
  /** The exit code, or null when the process was still running at the time limit (then killed). */
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `command` to its end, or kills it after `limitMs`. */
export async function runToExit(command: string[], env: Record<string, string>, limitMs = 30_000): Promise<Finished> {
  const proc = Bun.spawn(command, {
    env: { PATH: Bun.env.PATH ?? '', HOME: Bun.env.HOME ?? '/tmp', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stdout = new Response(proc.stdout).text()
  const stderr = new Response(proc.stderr).text()
  const code = await Promise.race([proc.exited, Bun.sleep(limitMs).then(() => null)])
  if (code === null) proc.kill('SIGKILL')
  return { code, stdout: await stdout, stderr: await stderr }
}

export interface RawAnswer {
  /** null when the connection closed without an HTTP answer. */
  status: number | null
  ms: number
}

/**
 * Sends `request` on a connection of its own and reads until the server closes it. Unlike
 * fetch, which quietly sends a request again when a kept-alive connection closes without an
 * answer, this shows exactly what a client got.
 */
export async function rawRequest(port: number, request: string): Promise<RawAnswer> {
  const started = performance.now()
  const { promise, resolve } = Promise.withResolvers<string>()
  let answer = ''
  await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      open: (socket) => void socket.write(request),
      data: (_, chunk) => {
        answer += new TextDecoder().decode(chunk)
      },
      close: () => resolve(answer),
      error: () => resolve(answer),
    },
  })
  const text = await promise
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]
  return { status: status ? Number(status) : null, ms: performance.now() - started }
}

/** A port that was free a moment ago. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

type Socket = import('bun').Socket<SocketState>
interface SocketState {
  peer?: Socket
  pending: Uint8Array[]
  /** Silenced for good: what reaches it is dropped. */
  silent?: boolean
}

/**
 * A TCP proxy the tests put between the server and Postgres: `cut` closes every connection
 * and refuses new ones, `stall` keeps connections open but holds back every byte (a database
 * that stopped answering), `restore` goes back to normal.
 */
export class TcpProxy {
  private listener?: { stop(closeActive?: boolean): void }
  private readonly sockets = new Set<Socket>()
  private stalled = false
  private held: [Socket, Uint8Array][] = []
  readonly port = freePort()

  constructor(private readonly target: { hostname: string; port: number }) {}

  private forward(to: Socket | undefined, data: Uint8Array) {
    if (!to || to.data.silent) return
    if (this.stalled) this.held.push([to, new Uint8Array(data)])
    else to.write(data)
  }

  start() {
    const proxy = this
    this.stalled = false
    this.listener = Bun.listen<SocketState>({
      hostname: '127.0.0.1',
      port: this.port,
      socket: {
        async open(client) {
          client.data = { pending: [] }
          proxy.sockets.add(client)
          const upstream = await Bun.connect<SocketState>({
            ...proxy.target,
            socket: {
              data: (_, data) => proxy.forward(client, data),
              close: () => void client.end(),
              error: () => void client.end(),
            },
          }).catch(() => undefined)
          if (!upstream) return void client.end()
          upstream.data = { peer: client, pending: [] }
          proxy.sockets.add(upstream)
          client.data.peer = upstream
          for (const chunk of client.data.pending) upstream.write(chunk)
          client.data.pending = []
        },
        data(client, data) {
          if (client.data.peer) proxy.forward(client.data.peer, data)
          else client.data.pending.push(new Uint8Array(data))
        },
        close(client) {
          client.data.peer?.end()
          proxy.sockets.delete(client)
        },
        error(client) {
          client.data.peer?.end()
        },
      },
    })
  }

  cut() {
    this.listener?.stop(true)
    for (const socket of this.sockets) socket.terminate()
    this.sockets.clear()
  }

  stall() {
    this.stalled = true
  }

  /** A failover: connections open now go silent for good, new connections work normally. */
  silenceExisting() {
    for (const socket of this.sockets) socket.data.silent = true
  }

  /** Ends a stall (delivering what was held back, as a network that recovers does) or a cut. */
  restore() {
    if (!this.stalled) return this.start()
    this.stalled = false
    for (const [to, data] of this.held) to.write(data)
    this.held = []
  }

  stop() {
    this.cut()
  }
}
