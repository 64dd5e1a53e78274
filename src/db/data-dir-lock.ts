import { Database as Sqlite } from 'bun:sqlite'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** The embedded database's folder is open in another live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly holderPid: number | undefined,
  ) {
    const holder = holderPid === undefined ? 'another process' : `process ${holderPid}`
    super(
      `the embedded database in ${dir} is in use by ${holder}: one process at a time can open it ` +
        '(stop that process, or give this one another DATA_DIR)',
    )
  }
}

export interface DataDirLock {
  release(): void
}

// A handle that is garbage collected closes its file, and the lock goes with it: every lock
// held stays referenced here until it is released.
const held = new Set<Sqlite>()

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Makes this process the only one with `dir` open. PGlite takes no lock of its own, and two
 * processes on one folder lose acknowledged writes.
 *
 * The lock is the kernel's own file lock, taken through SQLite (which Bun ships) on
 * `<dir>.lock`: the kernel grants it to one process only, even to two starting at the same
 * instant, and drops it when its process ends, however it ends (kill -9 included). So there is
 * no stale lock to detect, and a pid recycled by an unrelated process can never keep it.
 * `<dir>.pid` only names the holder in the refusal; nothing is decided by it. Nothing else in
 * this process may open the `.lock` file: closing any descriptor of it would drop the lock.
 */
export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dirname(dir), { recursive: true })
  const pidFile = `${dir}.pid`
  const sqlite = new Sqlite(`${dir}.lock`, { create: true })
  try {
    // The transaction never writes: no journal file is needed beside the lock.
    sqlite.run('pragma journal_mode = memory')
    sqlite.run('begin exclusive')
  } catch (error) {
    sqlite.close()
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new DataDirInUseError(dir, readPid(pidFile))
    throw error
  }
  held.add(sqlite)
  writeFileSync(pidFile, `${process.pid}\n`)
  return {
    release() {
      if (!held.delete(sqlite)) return
      // The pid file goes first, while the lock still keeps any other process from writing its own.
      rmSync(pidFile, { force: true })
      sqlite.run('rollback')
      sqlite.close()
    },
  }
}
