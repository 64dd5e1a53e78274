import { afterAll, beforeEach } from 'bun:test'
import { dropSharedDatabase, resetDatabase, sharedDatabase } from './database'

await sharedDatabase()
beforeEach(resetDatabase)
afterAll(dropSharedDatabase)
