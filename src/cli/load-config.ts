import { type Config, ConfigError, loadConfig } from '../config'

/** Config for an entry point: a bad variable prints one line and exits 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(1)
  }
}
