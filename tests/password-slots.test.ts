import { expect, test } from 'bun:test'
import { type Argon2, createPasswordHasher, hashingSlots, SlotsBusy } from '../src/modules/accounts/passwords'

/** Jobs that start when a slot lets them and finish when the test says so. */
function controlledJobs() {
  const started: string[] = []
  const finishers = new Map<string, () => void>()
  const job = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name)
      finishers.set(name, () => resolve(name))
    })
  const finish = async (name: string) => {
    finishers.get(name)?.()
    await Bun.sleep(5)
  }
  return { started, job, finish }
}

test('password hashing runs in a bounded number of slots, first come first served', async () => {
  const slots = hashingSlots(2)
  const { started, job, finish } = controlledJobs()
  const jobs = ['0', '1', '2', '3'].map((name) => slots.verify(job(name)))
  await Bun.sleep(5)
  expect(started).toEqual(['0', '1'])
  await finish('1')
  expect(started).toEqual(['0', '1', '2'])
  // A newcomer waits behind the queue even though a slot is about to free up.
  const late = slots.verify(job('4'))
  await finish('0')
  expect(started).toEqual(['0', '1', '2', '3'])
  await finish('2')
  await finish('3')
  await finish('4')
  expect(await Promise.all([...jobs, late])).toEqual(['0', '1', '2', '3', '4'])
})

test('verifications (logins) take a freed slot before new hashes (sign-ups); each kind keeps its order', async () => {
  const slots = hashingSlots(1)
  const { started, job, finish } = controlledJobs()
  const jobs = [
    slots.hash(job('hash 1')),
    slots.hash(job('hash 2')),
    slots.verify(job('verify 1')),
    slots.hash(job('hash 3')),
    slots.verify(job('verify 2')),
  ]
  await Bun.sleep(5)
  expect(started).toEqual(['hash 1'])
  await finish('hash 1')
  expect(started).toEqual(['hash 1', 'verify 1'])
  // One arriving later still goes before the hashes that were waiting.
  jobs.push(slots.verify(job('verify 3')))
  await finish('verify 1')
  await finish('verify 2')
  expect(started).toEqual(['hash 1', 'verify 1', 'verify 2', 'verify 3'])
  await finish('verify 3')
  expect(started.at(-1)).toBe('hash 2')
  await finish('hash 2')
  expect(started.at(-1)).toBe('hash 3')
  await finish('hash 3')
  expect(await Promise.all(jobs)).toEqual(['hash 1', 'hash 2', 'verify 1', 'hash 3', 'verify 2', 'verify 3'])
})

/** What a job's promise came to within a few milliseconds: its error, or 'pending'. */
const settledSoon = (promise: Promise<unknown>) =>
  Promise.race([
    promise.then(
      () => 'done',
      (error: unknown) => error,
    ),
    Bun.sleep(20).then(() => 'pending'),
  ])

test('past maxWaitingHashes a new hash is refused at once; verifications still queue; room frees up', async () => {
  const slots = hashingSlots(1, { maxWaitingHashes: 2 })
  const { started, job, finish } = controlledJobs()
  const accepted = [slots.hash(job('hash 1')), slots.hash(job('hash 2')), slots.hash(job('hash 3'))]
  // Nothing has finished: the refusal does not wait for a slot.
  expect(await settledSoon(slots.hash(job('hash 4')))).toBeInstanceOf(SlotsBusy)
  const verifications = ['verify 1', 'verify 2', 'verify 3'].map((name) => slots.verify(job(name)))
  expect(await settledSoon(verifications[2] as Promise<string>)).toBe('pending')
  expect(started).toEqual(['hash 1'])
  await finish('hash 1')
  for (const name of ['verify 1', 'verify 2', 'verify 3']) await finish(name)
  // One waiting hash started: there is room for one more.
  expect(started.at(-1)).toBe('hash 2')
  accepted.push(slots.hash(job('hash 5')))
  expect(await settledSoon(slots.hash(job('hash 6')))).toBeInstanceOf(SlotsBusy)
  for (const name of ['hash 2', 'hash 3', 'hash 5']) await finish(name)
  expect(await Promise.all([...accepted, ...verifications])).toEqual([
    'hash 1',
    'hash 2',
    'hash 3',
    'hash 5',
    'verify 1',
    'verify 2',
    'verify 3',
  ])
})

const CHEAP = { memoryCost: 1024, timeCost: 1 }

/** Bun's argon2id, counting every hash and verify it is asked for. */
function countingArgon2() {
  const calls = { hash: 0, verify: 0 }
  const argon2: Argon2 = {
    hash: (password, cost) => {
      calls.hash++
      return Bun.password.hash(password, { algorithm: 'argon2id', ...cost })
    },
    verify: (password, hash) => {
      calls.verify++
      return Bun.password.verify(password, hash, 'argon2id')
    },
  }
  return { calls, argon2 }
}

test('the first login with an unknown email costs no more hashing than later ones (the dummy is made at start-up)', async () => {
  const { calls, argon2 } = countingArgon2()
  const hasher = createPasswordHasher(CHEAP, { argon2 })
  const work = async () => {
    const before = { ...calls }
    expect(await hasher.verifyAgainstNothing('a guess')).toBe(false)
    return { hash: calls.hash - before.hash, verify: calls.verify - before.verify }
  }
  const first = await work()
  const second = await work()
  expect(first).toEqual({ hash: 0, verify: 1 })
  expect(second).toEqual(first)
  expect(calls.hash).toBe(1)
})
