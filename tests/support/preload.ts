import { afterAll, afterEach, beforeEach } from 'bun:test'
import { stopAll } from './cleanup'
import { dropSharedDatabase, resetDatabase, sharedDatabase } from './database'

await sharedDatabase()
beforeEach(resetDatabase)
afterEach(stopAll)
afterAll(dropSharedDatabase)
