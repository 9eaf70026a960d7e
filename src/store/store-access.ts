/**
 * What the parts of a `LogStore` (its device registry, its reads) use of the store that owns
 * them: its connection's prepared statements and its read and write wrappers, which check that
 * the store is open and turn failures into `StoreError` sentences.
 */
import type { StatementSync } from "node:sqlite"

export interface StoreAccess {
  /** A prepared statement, cached by SQL text. */
  statement(sql: string): StatementSync
  /** Runs a read (the store must be open); failures become "store-read-failed". */
  read<T>(run: () => T): T
  /** Runs `run` in one write transaction; other failures than StoreErrors get the message `failure(where, why)`. */
  write<T>(failure: (where: string, why: string) => string, run: () => T): T
}
