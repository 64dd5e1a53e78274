import { createApp } from './app'
import { signAccessToken } from './auth/sign-token'
import { brokenBuildReason } from './build-integrity'
import { type Command, parseCommand, USAGE, UsageError, VERSION } from './cli/args'
import { loadConfigOrExit } from './cli/load-config'
import { exitOnStartupFailure } from './cli/startup-failure'
import { supervise } from './cli/supervisor'
import type { Config } from './config'
import { openPostgres } from './db/client'
import { runMigrations } from './db/migrate'
import { openDatabase } from './db/open'
import { createLogger } from './logger'
import { serve } from './server'

function commandOrExit(): Command {
  try {
    return parseCommand(Bun.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`todo-api: ${error.message}\n\n${USAGE}`)
    process.exit(2)
  }
}

async function run(command: Command, config: Config): Promise<void> {
  switch (command.name) {
    case 'token': {
      const claims = {
        ...(command.email && { email: command.email }),
        ...(command.userName && { name: command.userName }),
      }
      console.log(await signAccessToken(config.secret, command.userId, command.ttlSeconds, claims))
      break
    }
    case 'openapi': {
      // The document comes from the route schemas alone; this client is never connected.
      const database = await openPostgres('postgres://127.0.0.1:1/openapi')
      const app = createApp({ config, database, logger: createLogger('error') })
      console.log(
        JSON.stringify(await (await app.handle(new Request('http://localhost/swagger/json'))).json(), null, 2),
      )
      await database.close()
      break
    }
    case 'migrate': {
      const logger = createLogger(config.logLevel)
      const database = await openDatabase(config, logger)
      try {
        await runMigrations(database, { logger, lockTimeoutSeconds: config.migrationLockTimeoutSeconds })
        console.log(`migrations applied (${database.driver}, pooler: ${database.pooler})`)
      } finally {
        await database.close()
      }
      break
    }
    case 'serve': {
      if (command.workers !== undefined) {
        if (command.workers > 1 && !config.databaseUrl) {
          console.error(
            'invalid configuration: --workers above 1 needs DATABASE_URL: the embedded database serves one process',
          )
          process.exit(1)
        }
        config.workers = command.workers
      }
      const logger = createLogger(config.logLevel)
      const worker = Bun.env.TODO_API_WORKER !== undefined
      if (config.workers > 1 && !worker) await supervise(config, logger)
      else await serve(config, logger, { worker })
    }
  }
}

const command = commandOrExit()
const broken = brokenBuildReason()
if (broken) {
  console.error(`todo-api: ${broken}`)
  process.exit(1)
}
if (command.name === 'help') console.log(USAGE)
else if (command.name === 'version') console.log(VERSION)
else {
  const config = loadConfigOrExit()
  await run(command, config).catch((error) => exitOnStartupFailure(error, config))
}
