/**
 * `expect` (the Tcl tool) from a test: runs a script that drives an interactive program, such as
 * OpenSSH's `ssh` on a pseudo-terminal, and gives back its exit code and everything it showed.
 */
import { spawn } from "node:child_process"

/** Runs an `expect` script; resolves with its exit code and everything the terminal showed. */
export const expectScript = (script: string): Promise<{ code: number; output: string }> =>
  new Promise((resolve) => {
    const child = spawn("expect", ["-c", script], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.on("close", (code) => resolve({ code: code ?? -1, output }))
  })
