/** Command-line checks shared by the benchmark's child processes: whole-number options, and the usage line for a wrong call (exit code 2). */

/** The values as whole numbers above 0, or null when one is missing or is not one. */
export const positiveWholeNumbers = (values: ReadonlyArray<string | undefined>): number[] | null => {
  const numbers = values.map(Number)
  return numbers.every((n) => Number.isInteger(n) && n > 0) ? numbers : null
}

/** Prints `usage: <text>` on stderr and sets exit code 2. */
export const usage = (text: string): void => {
  process.stderr.write(`usage: ${text}\n`)
  process.exitCode = 2
}

/** The options `oftp-fleet.ts` and `oftp-swarm.ts` share, for `parseArgs`: `--port P [--devices N] [--rate R] [--count C] [--max-seconds S]`. */
export const FLEET_OPTIONS = {
  port: { type: "string" },
  devices: { type: "string", default: "1000" },
  rate: { type: "string", default: "10" },
  count: { type: "string", default: "250" },
  "max-seconds": { type: "string", default: "60" }
} as const
