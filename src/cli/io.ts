/**
 * What a CLI command gets from the outside world, so commands are testable without a process:
 * output sinks, the working directory, the environment, and an abort signal (Ctrl-C).
 *
 * A user's mistake is a `UsageError`: `main.ts` prints its message as one line on stderr and
 * exits 2. Nothing else in the CLI prints stack traces.
 */
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly isTTY: boolean
  /** Aborted when the user asks the command to stop (SIGINT / SIGTERM). */
  readonly signal: AbortSignal
}

/** Exit codes of the CLI contract: 0 ok, 1 an expectation failed, 2 bad input. */
export const ExitCode = { Ok: 0, Failed: 1, BadInput: 2 } as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** A mistake the user can fix; the message is one sentence naming what is wrong and what to do. */
export class UsageError extends Error {
  override readonly name = "UsageError"
}

export type Command = (args: ReadonlyArray<string>, io: CliIo) => Promise<ExitCode>
