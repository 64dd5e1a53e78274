import { describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { createUserProvisioner } from '../src/auth/users'
import type { Db } from '../src/db/client'
import { users } from '../src/db/schema'
import { sharedDatabase } from './support/database'

// The provisioner's queries, counted, and its guard in the database, which holds across
// several instances of the API (each with its own memory of what it wrote).

const seconds = () => Math.floor(Date.now() / 1000)

/** The database, counting the statements started through it. */
async function countingDb() {
  const { db } = (await sharedDatabase()).database
  const counter = { statements: 0 }
  const counted = new Proxy(db, {
    get(target, property) {
      const value = Reflect.get(target, property, target)
      if (property === 'insert' || property === 'update' || property === 'select') counter.statements++
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as Db
  return { db, counted, counter }
}

const rowOf = async (db: Db, id: string) => (await db.select().from(users).where(eq(users.id, id)))[0]

describe('profiles from token claims', () => {
  test('steady traffic with unchanged claims costs no statement; a change costs one', async () => {
    const { db, counted, counter } = await countingDb()
    const provision = createUserProvisioner(counted)
    const iat = seconds() - 100
    await provision({ sub: 'ann', name: 'Ann', email: 'ann@example.com', iat })
    expect(counter.statements).toBe(1)
    for (let i = 1; i <= 100; i++) await provision({ sub: 'ann', name: 'Ann', email: 'ann@example.com', iat: iat + i })
    // The API's own tokens carry no profile claims: nothing to do either.
    await provision({ sub: 'ann', iat: iat + 100 })
    expect(counter.statements).toBe(1)
    await provision({ sub: 'ann', name: 'Ann B.', email: 'ann@example.com', iat: iat + 101 })
    expect(counter.statements).toBe(2)
    expect((await rowOf(db, 'ann'))?.name).toBe('Ann B.')
  })

  test('across instances: an older token never reverts, and the same claims never rewrite, the stored profile', async () => {
    const { db } = (await sharedDatabase()).database
    const first = createUserProvisioner(db)
    const second = createUserProvisioner(db)
    const iat = seconds() - 100
    await first({ sub: 'bo', name: 'Bo', email: 'bo@example.com', iat })
    await second({ sub: 'bo', name: 'Bo', email: 'bo@example.com', iat })
    await first({ sub: 'bo', name: 'Bob', email: 'bob@example.com', iat: iat + 10 })
    const applied = await rowOf(db, 'bo')
    expect(applied).toMatchObject({ name: 'Bob', email: 'bob@example.com' })
    // The second instance still believes the old claims are current, and sees tokens of both;
    // a third has just started and remembers nothing.
    const third = createUserProvisioner(db)
    await third({ sub: 'bo', name: 'Bo', email: 'bo@example.com', iat: iat + 5 })
    await second({ sub: 'bo', name: 'Bob', email: 'bob@example.com', iat: iat + 20 })
    await third({ sub: 'bo', name: 'Bob', email: 'bob@example.com', iat: iat + 20 })
    expect(await rowOf(db, 'bo')).toEqual(applied)
  })

  test('a token issued in the future counts as issued now: it cannot hold back the changes after it', async () => {
    const { db } = (await sharedDatabase()).database
    let now = Date.now()
    const provision = createUserProvisioner(db, { now: () => now })
    await provision({ sub: 'cy', name: 'Cy', iat: Math.floor(now / 1000) + 3600 })
    now += 2000
    await provision({ sub: 'cy', name: 'Cy Later', iat: Math.floor(now / 1000) })
    expect((await rowOf(db, 'cy'))?.name).toBe('Cy Later')
  })
})
