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

export function createPasswordHasher(cost: AccountsConfig['passwordHash']): PasswordHasher {
  const hash = (password: string) => Bun.password.hash(password, { algorithm: 'argon2id', ...cost })
  let dummy: Promise<string> | undefined
  return {
    hash,
    verify: (password, stored) => Bun.password.verify(password, stored, 'argon2id'),
    async verifyAgainstNothing(password) {
      dummy ??= hash(crypto.randomUUID())
      await Bun.password.verify(password, await dummy, 'argon2id')
      return false
    },
  }
}
