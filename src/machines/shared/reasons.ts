/**
 * The words machines put in `context.reason`: durations as people read them ("10 s"), named
 * limits ("within conn-timeout (10 s)") and a failed promise's message. Shared so that every
 * machine says a timeout the same way.
 */

/** Milliseconds as seconds: `10000` → "10 s". */
export const seconds = (ms: number): string => `${ms / 1000} s`

/** A named limit and its value: `within("conn-timeout", 10000)` → "within conn-timeout (10 s)". */
export const within = (limit: string, ms: number): string => `within ${limit} (${seconds(ms)})`

/** What a rejected promise (an invoked actor's `onError`) said. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error))
