import { expect, test } from 'bun:test'
import { limiter } from '../src/modules/accounts/passwords'

test('password hashing runs in a bounded number of slots, first come first served', async () => {
  const limited = limiter(2)
  const started: number[] = []
  const finish: (() => void)[] = []
  const jobs = [0, 1, 2, 3].map((i) =>
    limited(
      () =>
        new Promise<number>((resolve) => {
          started.push(i)
          finish[i] = () => resolve(i)
        }),
    ),
  )
  await Bun.sleep(5)
  expect(started).toEqual([0, 1])
  finish[1]?.()
  await Bun.sleep(5)
  expect(started).toEqual([0, 1, 2])
  // A newcomer waits behind the queue even though a slot is about to free up.
  const late = limited(async () => {
    started.push(4)
    return 4
  })
  finish[0]?.()
  await Bun.sleep(5)
  expect(started).toEqual([0, 1, 2, 3])
  finish[2]?.()
  finish[3]?.()
  expect(await Promise.all([...jobs, late])).toEqual([0, 1, 2, 3, 4])
  expect(started).toEqual([0, 1, 2, 3, 4])
})
