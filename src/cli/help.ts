/**
 * What `fazlab <command> --help` (or `-h`) prints: each command module exports its `CommandHelp`
 * next to the flags it parses, and `main.ts` renders it (usage, what it does, each flag, examples)
 * on stdout with exit 0, before the command parses anything.
 */

export interface CommandHelp {
  /** The usage line(s), starting with "fazlab <command>". */
  readonly usage: ReadonlyArray<string>
  /** What the command does, in a sentence or two. */
  readonly summary: string
  /** Each flag (or argument) and what it means. */
  readonly flags: ReadonlyArray<readonly [flag: string, meaning: string]>
  readonly examples: ReadonlyArray<string>
}

/** The flags `run` and `up` share (src/cli/lab-flags.ts parses them). */
export const LAB_FLAGS_HELP: ReadonlyArray<readonly [string, string]> = [
  ["--headless", "print events as JSON lines on stdout instead of drawing the terminal UI"],
  ["--port-base N|auto|ephemeral", "documented port P listens on N+P; auto: the documented ports if they can be bound, else 20000, 30000...; ephemeral: the kernel chooses"],
  ["--addressing shared|per-device", "every device on 127.0.0.1, or one loopback address each (default on Linux)"],
  ["--data-dir DIR", "where the stores live (default .fazlab/<lab name>)"],
  ["--memory", "keep the stores in memory; nothing is written to disk"],
  ["--speed N", "lab time runs N times faster than the wall clock (1-1000)"],
  ["--control-bind HOST:PORT", "where the control channel listens (default 127.0.0.1:0)"],
  ["--placement in-process|process|netns|external", "where the devices run: the lab's process (default), one process each, one network namespace each (root), or nodes started elsewhere that dial in (containers; docs/placement.md)"],
  ["--netns", "the same as --placement netns"],
  ["--nftables FILE", "a netns lab's router loads this nftables file (nft -f, unchanged) instead of the lab file's netns.nftables"]
]

/** True when `args` ask for help: `--help` or `-h` anywhere before a `--`. */
export const wantsHelp = (args: ReadonlyArray<string>): boolean => {
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h")
}

export const renderHelp = (help: CommandHelp): string => {
  const width = Math.max(...help.flags.map(([flag]) => flag.length), 0)
  return [
    `usage: ${help.usage[0] ?? ""}`,
    ...help.usage.slice(1).map((line) => `       ${line}`),
    "",
    help.summary,
    "",
    ...(help.flags.length === 0 ? [] : ["flags:", ...help.flags.map(([flag, meaning]) => `  ${flag.padEnd(width)}  ${meaning}`), ""]),
    help.examples.length === 1 ? "example:" : "examples:",
    ...help.examples.map((example) => `  ${example}`),
    "",
    "docs: docs/cli.md",
    ""
  ].join("\n")
}
