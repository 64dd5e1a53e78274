/** What a test started and must not outlive it (servers, processes); the preload runs these after each test. */
const pending: (() => unknown)[] = []

export function stopAfterTest(stop: () => unknown): void {
  pending.push(stop)
}

export async function stopAll(): Promise<void> {
  const stops = pending.splice(0)
  await Promise.all(stops.map(async (stop) => stop()))
}
