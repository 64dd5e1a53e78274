import type { LoadResult } from './load'

/** The server's settings for each column of the comparison, from the direct ones. */
export function poolerSetups(direct: Record<string, string>, pooledUrl: string) {
  return [
    ['direct', direct],
    // The pooler's settings without the pooler: what unnamed statements and no pipelining cost.
    ['direct, transaction-mode settings', { ...direct, DATABASE_POOLER: 'transaction' }],
    ['through PgBouncer', { ...direct, DATABASE_URL: pooledUrl, DATABASE_POOLER: 'transaction' }],
  ] as const
}

export const POOLER_SCENARIOS = ['list', 'search', 'filtered']

/** A table of req/s (and p99) per scenario, one column per setup. */
export function poolerReport(results: LoadResult[], setups: readonly string[]): string {
  const cell = (scenario: string, setup: string) => {
    const r = results.find((x) => x.scenario === `${scenario} (${setup})`)
    return r ? `${r.rps} req/s, p99 ${r.p99} ms${r.errors ? `, ${r.errors} errors` : ''}` : '-'
  }
  const lines = [
    `| scenario | ${setups.join(' | ')} |`,
    `| --- | ${setups.map(() => '---').join(' | ')} |`,
    ...POOLER_SCENARIOS.map((s) => `| ${s} | ${setups.map((setup) => cell(s, setup)).join(' | ')} |`),
  ]
  return `${lines.join('\n')}\n`
}
