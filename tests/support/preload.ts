import { afterAll, afterEach, beforeEach } from 'bun:test'
import { stopAll } from './cleanup'
import { DROP_TIMEOUT_MS, dropSharedDatabase, resetDatabase, sharedDatabase } from './database'

await sharedDatabase()
beforeEach(resetDatabase)
afterEach(stopAll)
// DROP DATABASE waits for a checkpoint: 11.7 s was measured on a loaded machine, past the
// hooks' default 5 s.
afterAll(dropSharedDatabase, DROP_TIMEOUT_MS)
