import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { Logger } from '../logger'
import { type Database, type Db, queryRows } from './client'
import { codeOf, errorChain } from './connection-failure'

// Inside a compiled binary the folder is embedded (`--asset ./drizzle`) at the virtual root.
export const MIGRATIONS_FOLDER = import.meta.dir.startsWith('/$bunfs')
  ? '/$bunfs/root/drizzle'
  : join(import.meta.dir, '../../drizzle')

// Any fixed 64-bit number works; all instances of todo-api (and older releases, which took it
// as a session lock) use the same one. pg_locks shows it as classid (high half), objid (low).
const MIGRATION_LOCK_KEY = 7_283_019_455_112n
const LOCK_CLASSID = MIGRATION_LOCK_KEY >> 32n
const LOCK_OBJID = MIGRATION_LOCK_KEY & 0xffff_ffffn

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export interface MigrateOptions {
  folder?: string
  logger?: Logger
  /** How long to wait for another instance's lock; then MigrationLockTimeoutError. */
  lockTimeoutSeconds?: number
}

/** Who holds the migration lock, as PostgreSQL sees it (through a pooler: the pooler's connection). */
interface LockHolder {
  pid: number
  application_name: string | null
  client_addr: string | null
  state: string | null
  xact_start: string | null
}

/** The migration lock was still taken when the time limit ran out. */
export class MigrationLockTimeoutError extends Error {
  constructor(
    readonly seconds: number,
    readonly holder: LockHolder | undefined,
  ) {
    super(`migrations gave up after waiting ${seconds} s for the migration lock: ${describeHolder(holder)}`)
  }
}

function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'its holder is no longer listed'
  const who = `PostgreSQL process ${holder.pid} (application "${holder.application_name ?? ''}", client ${holder.client_addr ?? 'local'})`
  // Migrations hold it inside a transaction. Held outside one, it is a session lock that an
  // older release left on a connection (through a pooler, it outlives its client).
  return holder.xact_start
    ? `${who} holds it in a transaction started ${holder.xact_start}: another instance is migrating`
    : `${who} holds it outside any transaction, a session lock left behind; end that connection (select pg_terminate_backend(${holder.pid})) or restart the pooler`
}

/** `when` of the newest migration this build ships: /ready compares the database against it. */
export function latestMigrationTime(folder = MIGRATIONS_FOLDER): number {
  const files = readMigrationFiles({ migrationsFolder: folder })
  return files.at(-1)?.folderMillis ?? 0
}

async function lockHolder(tx: Db): Promise<LockHolder | undefined> {
  const [holder] = await queryRows<LockHolder>(
    tx,
    sql.raw(`select l.pid, a.application_name, host(a.client_addr) as client_addr, a.state,
      to_char(a.xact_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as xact_start
      from pg_locks l left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = ${LOCK_CLASSID}
        and l.objid = ${LOCK_OBJID} and l.objsubid = 1 and l.pid <> pg_backend_pid()
        and l.database = (select oid from pg_database where datname = current_database())`),
  )
  return holder
}

/**
 * Takes the migration lock for the rest of the transaction `tx`. A transaction lock ends with
 * its transaction however that ends, so a pooler can never hand it on to another client.
 */
async function lockForMigrations(tx: Db, seconds: number, logger: Logger): Promise<void> {
  const [first] = await queryRows<{ locked: boolean }>(
    tx,
    sql.raw(`select pg_try_advisory_xact_lock(${MIGRATION_LOCK_KEY}) as locked`),
  )
  if (first?.locked) return
  const holder = await lockHolder(tx)
  logger.warn('waiting for the migration lock', { timeout_s: seconds, holder: describeHolder(holder) })
  // SET LOCAL ends with the transaction too: nothing is left on a pooled connection.
  await tx.execute(sql.raw(`set local lock_timeout = '${seconds}s'`))
  try {
    await tx.execute(sql.raw(`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`))
  } catch (error) {
    // 55P03 lock_not_available: lock_timeout ran out.
    if (![...errorChain(error)].some((e) => codeOf(e) === '55P03')) throw error
    throw new MigrationLockTimeoutError(seconds, holder)
  }
  await tx.execute(sql.raw('set local lock_timeout = default'))
  logger.info('migration lock acquired')
}

/**
 * Applies pending migrations, all in one transaction that first takes the migration lock: two
 * instances starting together both get here, the second waits, then finds nothing to apply.
 * Drizzle's own migrator reads what was applied before its transaction (and takes no lock):
 * this does what it does, with the same bookkeeping table, inside the locked transaction.
 */
export async function runMigrations(database: Database, options: MigrateOptions = {}): Promise<void> {
  const { folder = MIGRATIONS_FOLDER, logger = silent, lockTimeoutSeconds = 120 } = options
  const migrations = readMigrationFiles({ migrationsFolder: folder })
  await database.withSession((db) =>
    db.transaction(async (tx) => {
      await lockForMigrations(tx, lockTimeoutSeconds, logger)
      await tx.execute(sql`create schema if not exists drizzle`)
      await tx.execute(
        sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
      )
      const [last] = await queryRows<{ created_at: string }>(
        tx,
        sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`,
      )
      for (const migration of migrations) {
        if (last && Number(last.created_at) >= migration.folderMillis) continue
        for (const statement of migration.sql) await tx.execute(sql.raw(statement))
        await tx.execute(
          sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
        )
      }
    }),
  )
}

/** True when the database answers and has every migration this build ships. */
export async function isMigrated(db: Db, expectedTime: number): Promise<boolean> {
  const [row] = await queryRows<{ latest: string | null }>(
    db,
    sql`select max(created_at)::text as latest from drizzle.__drizzle_migrations`,
  )
  return Number(row?.latest ?? 0) >= expectedTime
}
