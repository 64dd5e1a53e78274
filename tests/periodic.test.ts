import { describe, expect, test } from 'bun:test'
import { startPeriodic } from '../src/jobs/periodic'
import { createLogger } from '../src/logger'

const logged = () => {
  const lines: Record<string, unknown>[] = []
  return { lines, logger: createLogger('debug', (line) => lines.push(JSON.parse(line))) }
}
const until = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await Bun.sleep(5)
}

describe('periodic jobs', () => {
  test('run again and again; a failed run is logged and the next one still comes', async () => {
    const { lines, logger } = logged()
    let runs = 0
    const stop = startPeriodic(
      10,
      async () => {
        runs++
        if (runs === 1) throw new Error('database away')
        return runs
      },
      { name: 'test-job', logger },
    )
    await until(() => runs >= 3)
    await stop()
    expect(runs).toBeGreaterThanOrEqual(3)
    const failure = lines.find((l) => l.msg === 'job failed')
    expect(failure).toMatchObject({ job: 'test-job' })
    expect(JSON.stringify(failure)).toContain('database away')
  })

  test('stop waits for the run in progress, and no run starts afterwards', async () => {
    const { logger } = logged()
    let runs = 0
    let finished = 0
    const stop = startPeriodic(
      5,
      async () => {
        runs++
        await Bun.sleep(30)
        finished++
      },
      { name: 'slow', logger },
    )
    await until(() => runs === 1)
    await stop()
    expect(finished).toBe(runs)
    const after = runs
    await Bun.sleep(40)
    expect(runs).toBe(after)
  })

  test('runs never overlap', async () => {
    const { logger } = logged()
    let active = 0
    let most = 0
    let runs = 0
    const stop = startPeriodic(
      1,
      async () => {
        runs++
        most = Math.max(most, ++active)
        await Bun.sleep(10)
        active--
      },
      { name: 'overlap', logger, jitter: 0 },
    )
    await until(() => runs >= 4)
    await stop()
    expect(most).toBe(1)
  })
})
