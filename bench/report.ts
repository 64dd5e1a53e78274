import type { StartFigures } from './embedded-start'
import type { LoadResult } from './load'
import type { SyncOutcome } from './sync'

export interface Outcome {
  settings: Record<string, unknown>
  results: LoadResult[]
  memory: { peakMiB?: number; soak?: { startMiB: number; endMiB: number; seconds: number } }
  /** `bun run start` with no DATABASE_URL: medians of first starts and of restarts. */
  embedded?: { first: StartFigures; restart: StartFigures }
  sync?: SyncOutcome
}

interface Check {
  target: string
  value: string
  /** Undefined: a figure to report, with no target to meet. */
  met?: boolean
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0)

/** The results as JSON and as a Markdown table, with each target of the issue checked. */
export function report(outcome: Outcome, quick: boolean) {
  const by = (name: string) => outcome.results.find((r) => r.scenario === name)
  const floor = by('floor-db')?.rps ?? 0
  const rows = outcome.results.map((r) => ({ ...r, vsFloorDb: ratio(r.rps, floor) }))
  const checks: Check[] = []
  const check = (target: string, value: string, met?: boolean) => checks.push({ target, value, met })
  // Each app route against a bare server running its SQL (bench/floor-db.ts), in the same run.
  for (const [name, floorName, minimum] of [
    ['list', 'floor-db', 0.9],
    ['get', 'floor-get', 0.9],
    ['create', 'floor-insert', 0.8],
    ['toggle', 'floor-update', 0.8],
  ] as const) {
    const app = by(name)
    const base = by(floorName)
    if (!app || !base) continue
    const r = ratio(app.rps, base.rps)
    check(`${name}: at least ${minimum} x ${floorName} req/s`, `${r} x (${app.rps} vs ${base.rps})`, r >= minimum)
    check(
      `${name}: p99 at most 1.5 x ${floorName}'s p99`,
      `${app.p99} ms vs ${base.p99} ms (${ratio(app.p99, base.p99)} x)`,
      app.p99 <= base.p99 * 1.5,
    )
  }
  const errors = outcome.results.filter((r) => r.errors > 0)
  check(
    'no errors in any scenario',
    errors.map((r) => `${r.scenario}: ${r.errors}`).join(', ') || '0',
    errors.length === 0,
  )
  for (const name of ['list', 'search', 'outline', 'move']) {
    const r = ratio(by(`${name}-big`)?.p50 ?? 0, by(`${name}-small`)?.p50 ?? 0)
    check(`${name}: p50 with 100,000 tasks within 1.5 x of 100 tasks`, `${r} x`, r <= 1.5)
  }
  const storm = by('mixed-during-login-storm')
  const calm = by('mixed')
  if (storm && calm)
    check(
      'a login storm does not raise the p99 of the other routes (mixed, full speed)',
      `${calm.p99} ms -> ${storm.p99} ms`,
      storm.p99 <= calm.p99 * 1.25,
    )
  const peak = outcome.memory.peakMiB ?? Number.NaN
  check('server peak RSS at most 150 MB under load', `${peak} MiB`, peak * 1.048576 <= 150)
  const soak = outcome.memory.soak
  if (soak)
    check(
      `no memory growth over a ${soak.seconds} s soak of the mixed load`,
      `${soak.startMiB} -> ${soak.endMiB} MiB`,
      soak.endMiB <= soak.startMiB * 1.1,
    )
  const embedded = outcome.embedded
  if (embedded) {
    const { first, restart } = embedded
    check('embedded first start (`bun run start`, fresh DATA_DIR): under 1.5 s', `${first.ms} ms`, first.ms < 1500)
    check('embedded first start: peak RSS under 300 MB', `${first.peakMiB} MiB`, first.peakMiB * 1.048576 < 300)
    check('embedded restart: under 0.8 s', `${restart.ms} ms`, restart.ms < 800)
    check(
      'embedded idle RSS under 200 MB (after first start / restart)',
      `${first.idleMiB} / ${restart.idleMiB} MiB`,
      Math.max(first.idleMiB, restart.idleMiB) * 1.048576 < 200,
    )
  }
  const sync = outcome.sync
  if (sync?.feed) {
    const f = sync.feed
    check(
      `change feed: first sync of a user with ${f.entries.toLocaleString('en')} tasks and lists (${f.pages} pages of ${f.limit})`,
      `${f.firstSyncMs} ms in all; a page p50 ${f.pageP50Ms} ms, p99 ${f.pageP99Ms} ms`,
    )
    check(`change feed: catch-up after ${f.changed} writes (that user)`, `${f.catchUpMs} ms`)
  }
  if (sync?.events) {
    const e = sync.events
    check(
      `live events: a write through one instance until its event arrives on a stream of another, ${e.streams} streams open there (${e.writes} writes, one at a time)`,
      `p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms, max ${e.maxMs} ms`,
    )
    check(
      'live events: server memory per idle stream',
      `${e.kibPerStream} KiB (${e.rssBeforeMiB} -> ${e.rssAfterMiB} MiB with ${e.streams} streams)`,
    )
  }
  if (sync?.create && sync.createWithKey)
    check(
      'Idempotency-Key on create: req/s and p99 with a fresh key on each, against none (same closed loop)',
      `${sync.createWithKey.rps} vs ${sync.create.rps} req/s (${ratio(sync.createWithKey.rps, sync.create.rps)} x); p99 ${sync.createWithKey.p99} vs ${sync.create.p99} ms; errors ${sync.createWithKey.errors + sync.create.errors}`,
    )
  const gain = ratio(by('list-workers-2')?.rps ?? 0, by('list')?.rps ?? 0)
  check('WORKERS=2: gain over one worker (list)', `${gain} x`)

  const table = [
    '| scenario | req/s | p50 ms | p99 ms | errors | x floor-db | server RSS MiB | generator CPU (cores) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.vsFloorDb} | ${r.rssMiB ?? ''} | ${r.generatorCpu ?? ''} |`,
    ),
  ]
  const targets = [
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...checks.map(
      (c) =>
        `| ${c.target} | ${c.value} | ${quick ? 'not judged (smoke)' : c.met === undefined ? 'reported' : c.met ? 'yes' : 'NO'} |`,
    ),
  ]
  const s = outcome.settings
  const heading = `${s.connections} connections, ${s.durationSeconds} s per scenario after a ${s.warmupSeconds} s warm-up; load generator: ${s.generator}, its CPU beside each scenario (of the machine's ${navigator.hardwareConcurrency} cores); server: \`${s.server}\``
  const markdown = `${heading}\n\n${table.join('\n')}\n\n${targets.join('\n')}\n`
  return { json: { ...outcome, results: rows, checks, recordedAt: new Date().toISOString() }, markdown }
}
