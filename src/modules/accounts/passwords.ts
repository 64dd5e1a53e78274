import { availableParallelism } from 'node:os'
import type { AccountsConfig } from '../../config'
import { serviceUnavailable } from '../../http/problem'

export interface PasswordHasher {
  /** A new hash (sign-up, password change); refused with a 503 when too many already wait. */
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
  /**
   * Costs what a real verify costs and always fails: used when the email is unknown (or has no
   * password), so response time does not tell which emails have accounts.
   */
  verifyAgainstNothing(password: string): Promise<false>
  /** True when `hash` would be refused right now: lets a sign-up be turned away before any other work. */
  busy(): boolean
}

/** A new hash found `maxWaitingHashes` others already waiting. */
export class SlotsBusy extends Error {
  constructor() {
    super('too many password hashes are waiting for a slot')
  }
}

/**
 * Runs at most `slots` jobs at once. A freed slot goes to the oldest waiting verification
 * (a login), and only when none waits to the oldest waiting new hash (a sign-up or password
 * change): a crowd of sign-ups, from however many addresses, cannot make logins wait behind
 * it. At most `maxWaitingHashes` new hashes wait; the next is refused at once.
 */
export function hashingSlots(slots: number, { maxWaitingHashes = Number.POSITIVE_INFINITY } = {}) {
  let running = 0
  const verifications: (() => void)[] = []
  const hashes: (() => void)[] = []
  const run = async <T>(queue: (() => void)[], job: () => Promise<T>): Promise<T> => {
    // A finishing job hands its slot straight to the next in line, so none can jump the queue:
    // while a slot is free, nothing waits.
    if (running < slots) running++
    else await new Promise<void>((resolve) => queue.push(resolve))
    try {
      return await job()
    } finally {
      const next = verifications.shift() ?? hashes.shift()
      if (next) next()
      else running--
    }
  }
  const full = () => running >= slots && hashes.length >= maxWaitingHashes
  return {
    verify: <T>(job: () => Promise<T>) => run(verifications, job),
    hash<T>(job: () => Promise<T>): Promise<T> {
      return full() ? Promise.reject(new SlotsBusy()) : run(hashes, job)
    },
    /** True when a new hash would be refused now. */
    full,
  }
}

// argon2id is slow on purpose and runs on Bun's thread pool: left alone, a storm of logins
// would take every core and stall all other requests. One core is always left to them.
export const HASHING_SLOTS = Math.max(1, availableParallelism() - 1)

type Cost = AccountsConfig['passwordHash']

/** The argon2id primitives; tests wrap them to count the work done. */
export interface Argon2 {
  hash(password: string, cost: Cost): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
}

const bunArgon2: Argon2 = {
  hash: (password, cost) => Bun.password.hash(password, { algorithm: 'argon2id', ...cost }),
  verify: (password, hash) => Bun.password.verify(password, hash, 'argon2id'),
}

export interface HasherOptions {
  slots?: number
  /** New hashes allowed to wait for a slot; past it `hash` answers 503 at once. */
  maxWaitingHashes?: number
  argon2?: Argon2
}

export const hashingBusy = () =>
  serviceUnavailable('The server is busy with other sign-ups and password changes; try again shortly.')

export function createPasswordHasher(
  cost: Cost,
  { slots = HASHING_SLOTS, maxWaitingHashes, argon2 = bunArgon2 }: HasherOptions = {},
): PasswordHasher {
  const limited = hashingSlots(slots, { maxWaitingHashes })
  const verify = (password: string, stored: string) => limited.verify(() => argon2.verify(password, stored))
  // Made now, at start-up: made on first use, it doubled the cost of the first unknown-email
  // login, which told that email apart from a known one.
  const dummy = limited.hash(() => argon2.hash(crypto.randomUUID(), cost))
  return {
    async hash(password) {
      try {
        return await limited.hash(() => argon2.hash(password, cost))
      } catch (error) {
        throw error instanceof SlotsBusy ? hashingBusy() : error
      }
    },
    verify,
    async verifyAgainstNothing(password) {
      await verify(password, await dummy)
      return false
    },
    busy: limited.full,
  }
}
