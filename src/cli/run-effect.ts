/**
 * The CLI's one bridge from promises to the lab's Effect programs: runs an effect, cancels it
 * when the command's signal aborts (Ctrl-C), and turns a typed lab failure (a port that cannot
 * be bound, no free port base) into a `UsageError`: one sentence, exit 2, no stack trace.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { UsageError } from "./io.ts"

/** The lab was stopped by the user before it finished (Ctrl-C). */
export class Interrupted extends Error {
  override readonly name = "Interrupted"
}

export const runLabEffect = async <A, E extends { readonly message: string }>(
  effect: Effect.Effect<A, E>,
  signal: AbortSignal
): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect, { signal })
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error)) throw new UsageError(error.value.message)
  if (Cause.hasInterruptsOnly(exit.cause)) throw new Interrupted("stopped by the user")
  throw Cause.squash(exit.cause)
}
