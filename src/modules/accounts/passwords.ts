import { availableParallelism } from 'node:os'
import type { AccountsConfig } from '../../config'

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
  /**
   * Costs what a real verify costs and always fails: used when the email is unknown (or has no
   * password), so response time does not tell which emails have accounts.
   */
  verifyAgainstNothing(password: string): Promise<false>
}

/** Runs at most `slots` jobs at once; the rest wait their turn in order. */
export function limiter(slots: number) {
  let running = 0
  const waiting: (() => void)[] = []
  return async <T>(job: () => Promise<T>): Promise<T> => {
    // A finishing job hands its slot straight to the next in line, so none can jump the queue.
    if (running < slots) running++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await job()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}

// argon2id is slow on purpose and runs on Bun's thread pool: left alone, a storm of logins
// would take every core and stall all other requests. One core is always left to them.
const HASHING_SLOTS = Math.max(1, availableParallelism() - 1)

export function createPasswordHasher(cost: AccountsConfig['passwordHash'], slots = HASHING_SLOTS): PasswordHasher {
  const limited = limiter(slots)
  const hash = (password: string) => limited(() => Bun.password.hash(password, { algorithm: 'argon2id', ...cost }))
  let dummy: Promise<string> | undefined
  return {
    hash,
    verify: (password, stored) => limited(() => Bun.password.verify(password, stored, 'argon2id')),
    async verifyAgainstNothing(password) {
      dummy ??= hash(crypto.randomUUID())
      const stored = await dummy
      await limited(() => Bun.password.verify(password, stored, 'argon2id'))
      return false
    },
  }
}
