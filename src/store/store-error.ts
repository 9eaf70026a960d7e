/**
 * The one error the analyzer's store raises. Its message is a single sentence for the user
 * (what is wrong, which file, what to do); `code` is stable for programs and tests.
 */

export type StoreErrorCode =
  /** The store file or its folder cannot be created or opened (permissions, a folder in the way, locked). */
  | "store-open-failed"
  /** The file exists but is not a fazlab log store (not SQLite at all, or another program's database). */
  | "store-not-a-store"
  /** The file was written by a fazlab store version this build does not know (a newer fazlab). */
  | "store-version"
  /** A batch could not be made durable (disk full, file removed...); nothing of that batch was stored. */
  | "store-write-failed"
  /** Reading the store failed. */
  | "store-read-failed"
  /** A query value is out of range (negative limit, non-integer id...). */
  | "store-bad-query"
  /** No registered device has the serial an operation names. */
  | "store-unknown-device"
  /** The store was used after `close()`. */
  | "store-closed"

export class StoreError extends Error {
  override readonly name = "StoreError"
  readonly code: StoreErrorCode

  constructor(code: StoreErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
