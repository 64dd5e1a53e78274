// The load generator, run as its own process: `bun bench/load.ts <spec.json>`. It drives one
// scenario with autocannon (keep-alive connections, a warm-up, then a fixed duration) and
// prints one JSON line with the result. Every request carries a valid token of a random user.
import autocannon from 'autocannon'

export interface Fixture {
  users: { id: string; token: string; email: string; inbox: number }[]
  tasksPerUser: number
  /** The big user's lists by index (task id t is in list t % lists.length) and its task ids. */
  big: { id: string; token: string; lists: number[]; firstTask: number; tasks: number }
  /** Tasks made by the create scenario, each deleted once by the delete scenario. */
  deleteTargets: { user: number; id: number }[]
  password: string
  words: string[]
}

export interface LoadSpec {
  url: string
  scenario: string
  connections: number
  durationSeconds: number
  warmupSeconds: number
  fixture: string
}

export interface LoadResult {
  scenario: string
  rps: number
  p50: number
  p99: number
  errors: number
  requests: number
  /** The load generator's own CPU, in cores (CPU seconds per second of the run). */
  generatorCpu?: number
  /** The server's largest resident memory while this scenario ran, in MiB (set by run.ts). */
  rssMiB?: number
}

export type Request = { method: string; path: string; headers: Record<string, string>; body?: string }

export function scenarios(f: Fixture): Record<string, () => Request> {
  const rand = (n: number) => Math.floor(Math.random() * n)
  const user = () => {
    const i = rand(f.users.length)
    return { i, u: f.users[i] as Fixture['users'][number] }
  }
  const auth = (token: string) => ({ authorization: `Bearer ${token}` })
  const json = (token: string) => ({ ...auth(token), 'content-type': 'application/json' })
  const ownedTask = (i: number) => i * f.tasksPerUser + 1 + rand(f.tasksPerUser)
  const word = () => f.words[rand(f.words.length)] as string
  const get = (u: { id: string; token: string }, query: string): Request => ({
    method: 'GET',
    path: `/api/${u.id}/tasks${query}`,
    headers: auth(u.token),
  })
  let deleted = 0
  const move = (u: { id: string; token: string }, id: number, after: number): Request => ({
    method: 'POST',
    path: `/api/${u.id}/tasks/${id}/move`,
    headers: json(u.token),
    body: JSON.stringify({ after_id: after }),
  })

  const s: Record<string, () => Request> = {
    list: () => get(user().u, '?limit=20'),
    get: () => {
      const { i, u } = user()
      return get(u, `/${ownedTask(i)}`)
    },
    search: () => get(user().u, `?q=${word()}&limit=20`),
    filtered: () => get(user().u, '?status=pending&priority=high,medium&has_due=true&sort=due_date&limit=20'),
    create: () => {
      const { u } = user()
      const body = { title: 'Bench task', priority: 'high', tags: ['work', 'bench'], due_date: '2026-12-01' }
      return { method: 'POST', path: `/api/${u.id}/tasks`, headers: json(u.token), body: JSON.stringify(body) }
    },
    toggle: () => {
      const { i, u } = user()
      return { method: 'PATCH', path: `/api/${u.id}/tasks/${ownedTask(i)}/complete`, headers: auth(u.token) }
    },
    update: () => {
      const { i, u } = user()
      const body = JSON.stringify({ title: `Updated ${rand(1e6)}`, priority: ['low', 'medium', 'high'][rand(3)] })
      return { method: 'PATCH', path: `/api/${u.id}/tasks/${ownedTask(i)}`, headers: json(u.token), body }
    },
    delete: () => {
      const target = f.deleteTargets[deleted++ % Math.max(1, f.deleteTargets.length)]
      if (!target) throw new Error('nothing to delete: run the create scenario first')
      const u = f.users[target.user] as Fixture['users'][number]
      return { method: 'DELETE', path: `/api/${u.id}/tasks/${target.id}`, headers: auth(u.token) }
    },
    login: () => {
      const { u } = user()
      const body = JSON.stringify({ email: u.email, password: f.password })
      return { method: 'POST', path: '/api/auth/login', headers: { 'content-type': 'application/json' }, body }
    },
    'list-big': () => get(f.big, '?limit=20'),
    // One list in outline order: a small user's Inbox, or one of the big user's 50 lists.
    'outline-small': () => {
      const { u } = user()
      return get(u, `?list_id=${u.inbox}&sort=position&limit=20`)
    },
    'outline-big': () => get(f.big, `?list_id=${f.big.lists[rand(f.big.lists.length)]}&sort=position&limit=20`),
    // A move after a sibling, all by one user (moves of one user take turns): user 0's 100
    // tasks, or the big user's, within one of its lists.
    'move-small': () => {
      const u = f.users[0] as Fixture['users'][number]
      const id = 1 + rand(f.tasksPerUser)
      const after = 1 + ((id + rand(f.tasksPerUser - 1)) % f.tasksPerUser)
      return move(u, id, after)
    },
    'move-big': () => {
      const n = f.big.lists.length
      const id = f.big.firstTask + rand(f.big.tasks)
      let after = id + n * (1 + rand(20)) * (Math.random() < 0.5 ? -1 : 1)
      if (after < f.big.firstTask || after >= f.big.firstTask + f.big.tasks) after = id + (id - after)
      return move(f.big, id, after)
    },
    'search-big': () => get(f.big, `?q=${word()}&limit=20`),
  }
  // 80% reads, 20% writes.
  const mixed: [number, () => Request][] = [
    [0.4, s.list as () => Request],
    [0.4, s.get as () => Request],
    [0.07, s.create as () => Request],
    [0.07, s.toggle as () => Request],
    [0.06, s.update as () => Request],
  ]
  s.mixed = () => {
    let r = Math.random()
    for (const [share, make] of mixed) {
      if (r < share) return make()
      r -= share
    }
    return (s.list as () => Request)()
  }
  s['list-small'] = s.list as () => Request
  s['search-small'] = s.search as () => Request
  return s
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const fixture = (await Bun.file(spec.fixture).json()) as Fixture
  const make = scenarios(fixture)[spec.scenario]
  if (!make) throw new Error(`unknown scenario ${spec.scenario}`)
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSeconds,
    warmup: spec.warmupSeconds > 0 ? { connections: spec.connections, duration: spec.warmupSeconds } : undefined,
    requests: [{ setupRequest: (req: Request) => Object.assign(req, make()) }],
  } as autocannon.Options)
  return {
    scenario: spec.scenario,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    requests: result.requests.total,
  }
}

if (import.meta.main) {
  const spec = (await Bun.file(process.argv[2] as string).json()) as LoadSpec
  console.log(JSON.stringify(await runLoad(spec)))
  process.exit(0)
}
