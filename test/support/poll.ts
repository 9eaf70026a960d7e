/**
 * Waiting for what the kernel holds and no event announces (a process that exited, an address on
 * an interface, a neighbour entry): checks again every 50 ms, bounded in time.
 */

/** Resolves once `condition` holds; rejects with "<what> within N ms" when it has not after `timeoutMs`. */
export const eventually = async (condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
