// Live updates under load: two server processes on one PostgreSQL database, `streams` idle
// event streams held on instance 2 (one per user), then `writes` task creations through
// instance 1, each timed from the request until its event arrives on instance 2. Gives the
// p50/p99 delay and instance 2's resident memory per idle stream. Part of `bun run bench`;
// alone:
//
//   bun bench/events.ts postgres://postgres@127.0.0.1:5432/postgres [streams] [writes]
//
// The database named in the URL is left alone: a scratch database is created and dropped.
import postgres from 'postgres'
import { signAccessToken } from '../src/auth/sign-token'
import { residentMiB, startProcess } from './processes'

export interface EventFigures {
  streams: number
  writes: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  rssBeforeMiB: number
  rssAfterMiB: number
  kibPerStream: number
}

const SECRET = 'bench-secret-that-is-long-enough-0123456789'

export async function eventFigures(
  base: string,
  command: string[],
  streams = 1000,
  writes = 300,
): Promise<EventFigures> {
  const admin = postgres(base, { max: 1, onnotice: () => {} })
  const name = `todo_bench_events_${process.pid}_${Date.now()}`
  await admin.unsafe(`create database "${name}"`)
  const url = new URL(base)
  url.pathname = `/${name}`
  const env = {
    DATABASE_URL: url.toString(),
    BETTER_AUTH_SECRET: SECRET,
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
  }
  const one = await startProcess(command, env, '/ready')
  const two = await startProcess(command, env, '/ready')

  const users = Array.from({ length: streams }, (_, i) => `bench-user-${i}`)
  const tokens = await Promise.all(users.map((u) => signAccessToken(SECRET, u, 3600)))
  const waiting = new Map<string, () => void>()
  const sockets: { end(): void }[] = []

  try {
    // Users exist once they have been seen.
    for (let i = 0; i < streams; i += 100)
      await Promise.all(
        tokens
          .slice(i, i + 100)
          .map((t) =>
            fetch(`${one.url}/api/me/lists`, { headers: { authorization: `Bearer ${t}` } }).then((r) =>
              r.arrayBuffer(),
            ),
          ),
      )
    await Bun.sleep(1000)
    const before = residentMiB(two.proc.pid).rss
    // Raw sockets: fetch keeps at most 256 connections at once, and the streams stay open.
    const { port } = new URL(two.url)
    for (let i = 0; i < streams; i += 50)
      await Promise.all(
        tokens.slice(i, i + 50).map(
          (token) =>
            new Promise<void>((resolve, reject) => {
              const decoder = new TextDecoder()
              void Bun.connect({
                hostname: '127.0.0.1',
                port: Number(port),
                socket: {
                  open: (socket) => {
                    sockets.push(socket)
                    socket.write(
                      `GET /api/me/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
                    )
                  },
                  data: (_, chunk) => {
                    const text = decoder.decode(chunk)
                    if (text.startsWith('HTTP/1.1 ')) {
                      if (!text.startsWith('HTTP/1.1 200')) reject(new Error(`stream: ${text.slice(0, 200)}`))
                      else resolve()
                    }
                    for (const [, title] of text.matchAll(/"title":"(write-\d+)"/g)) waiting.get(title as string)?.()
                  },
                  error: (_, err) => reject(err),
                },
              }).catch(reject)
            }),
        ),
      )
    await Bun.sleep(3000)
    const after = residentMiB(two.proc.pid).rss

    const delays: number[] = []
    for (let n = 0; n < writes; n++) {
      const i = Math.floor(Math.random() * streams)
      const title = `write-${n}`
      const arrived = new Promise<void>((resolve) => waiting.set(title, resolve))
      const started = performance.now()
      const res = await fetch(`${one.url}/api/me/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[i]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title }),
      })
      if (res.status !== 201) throw new Error(`write: ${res.status}`)
      await Promise.race([arrived, Bun.sleep(10_000).then(() => Promise.reject(new Error(`${title} never arrived`)))])
      delays.push(performance.now() - started)
      waiting.delete(title)
    }
    delays.sort((a, b) => a - b)
    const at = (q: number) =>
      Math.round((delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0) * 10) / 10
    return {
      streams,
      writes,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: at(1),
      rssBeforeMiB: before,
      rssAfterMiB: after,
      kibPerStream: Math.round(((after - before) * 1024 * 10) / streams) / 10,
    }
  } finally {
    for (const socket of sockets) socket.end()
    await Promise.all([one.stop(), two.stop()])
    await admin.unsafe(`drop database if exists "${name}" with (force)`)
    await admin.end()
  }
}

if (import.meta.main) {
  const [base = Bun.env.DATABASE_URL, streams = '1000', writes = '300'] = Bun.argv.slice(2)
  if (!base) throw new Error('usage: bun bench/events.ts <postgres url> [streams] [writes]')
  const command = Bun.env.TODO_API ? [Bun.env.TODO_API] : ['bun', 'src/main.ts']
  const f = await eventFigures(base, command, Number(streams), Number(writes))
  console.log(`streams open on instance 2: ${f.streams}; writes through instance 1: ${f.writes}`)
  console.log(`write -> event on the other instance: p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms`)
  console.log(
    `instance 2 RSS: ${f.rssBeforeMiB} MiB before the streams, ${f.rssAfterMiB} MiB with them: ${f.kibPerStream} KiB per idle stream`,
  )
}
