import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stopAfterTest } from './cleanup'
import { type RunningServer, startServer } from './processes'

export { BINARY } from './processes'

export interface SpawnedServer extends RunningServer {
  origin: string
}

/**
 * Starts the binary as an operator would (environment variables only, an empty working
 * directory so no stray `.env` is read, any free port) and stops it after the test.
 */
export async function spawnBinary(binary: string, env: Record<string, string>): Promise<SpawnedServer> {
  const cwd = mkdtempSync(join(tmpdir(), 'todo-api-bin-'))
  const server = await startServer({ PORT: '0', DATA_DIR: join(cwd, 'data'), ...env }, { command: [binary], cwd })
  stopAfterTest(async () => {
    server.proc.kill()
    await server.proc.exited
  })
  return { ...server, origin: `http://127.0.0.1:${server.port}` }
}
