/**
 * The system tools the tests run as real third-party clients and daemons, checked before any
 * test (`npm test`'s `pretest`: `node test/tools.ts`). When some are not on PATH it installs
 * their Debian packages itself if it runs as root with apt-get (as on a fresh Debian 12 CI
 * machine), else it stops in one sentence naming the packages to install. XSD validation of
 * JUnit reports needs no tool: test/support/junit-schema.ts uses libxml2 as WebAssembly.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * Each tool the tests run, and the Debian package that has it. A tool is there when a command of
 * its name is on PATH, or, for what is not a command (a Perl module), when `present` says so.
 */
export interface TestTool {
  readonly name: string
  readonly debian: string
  readonly present?: (pathVariable: string) => boolean
}

/** Whether `command` is an executable file in one of PATH's folders. */
const onPath = (command: string, pathVariable: string): boolean =>
  pathVariable.split(path.delimiter).filter((dir) => dir !== "").some((dir) => {
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })

/** A Perl module loads (swaks needs IO::Socket::SSL and Net::SSLeay for STARTTLS). */
const perlModule = (module: string) => (pathVariable: string): boolean =>
  onPath("perl", pathVariable) && spawnSync("perl", [`-M${module}`, "-e", "1"], { env: { PATH: pathVariable }, stdio: "ignore" }).status === 0

export const TEST_TOOLS: ReadonlyArray<TestTool> = [
  { name: "logger", debian: "bsdutils" },
  { name: "openssl", debian: "openssl" },
  { name: "curl", debian: "curl" },
  { name: "tmux", debian: "tmux" },
  { name: "rsyslogd", debian: "rsyslog" },
  { name: "snmptrapd", debian: "snmptrapd" },
  { name: "swaks", debian: "swaks" },
  { name: "Perl IO::Socket::SSL", debian: "libio-socket-ssl-perl", present: perlModule("IO::Socket::SSL") },
  { name: "Perl Net::SSLeay", debian: "libnet-ssleay-perl", present: perlModule("Net::SSLeay") },
  { name: "dig", debian: "dnsutils" },
  { name: "ldapsearch", debian: "ldap-utils" },
  { name: "ldapwhoami", debian: "ldap-utils" },
  { name: "ldapadd", debian: "ldap-utils" },
  { name: "radclient", debian: "freeradius-utils" },
  { name: "sntp", debian: "sntp" },
  { name: "ssh", debian: "openssh-client" },
  { name: "ssh-keygen", debian: "openssh-client" },
  { name: "ssh-keyscan", debian: "openssh-client" },
  { name: "sftp", debian: "openssh-client" },
  { name: "scp", debian: "openssh-client" },
  { name: "expect", debian: "expect" },
  { name: "xmllint", debian: "libxml2-utils" },
  { name: "ip", debian: "iproute2" },
  { name: "nmap", debian: "nmap" },
  { name: "smbclient", debian: "smbclient" },
  { name: "nft", debian: "nftables" },
  { name: "arping", debian: "iputils-arping" },
  { name: "sysctl", debian: "procps" },
  { name: "pdftotext", debian: "poppler-utils" },
  { name: "unzip", debian: "unzip" }
]

const missingTools = (pathVariable: string) => TEST_TOOLS.filter((tool) => !(tool.present ?? ((dirs) => onPath(tool.name, dirs)))(pathVariable))

const list = (names: ReadonlyArray<string>): string => names.join(", ")

/** Runs the check: 0 when every tool is there (installed now or before), 1 with one sentence on stderr otherwise. */
export const ensureTestTools = (env: NodeJS.ProcessEnv, stderr: (text: string) => void): number => {
  const pathVariable = env["PATH"] ?? ""
  const missing = missingTools(pathVariable)
  if (missing.length === 0) return 0
  const packages = [...new Set(missing.map((tool) => tool.debian))]
  const canInstall = process.getuid?.() === 0 && onPath("apt-get", pathVariable)
  if (!canInstall) {
    stderr(
      `fazlab tests: ${list(missing.map((tool) => tool.name))} ${missing.length === 1 ? "is" : "are"} not on PATH; install the Debian packages ${list(packages)} (apt-get install -y --no-install-recommends ${packages.join(" ")}), or run npm test as root on Debian to have them installed, then run npm test again\n`
    )
    return 1
  }
  stderr(`fazlab tests: installing ${list(packages)} with apt-get for ${list(missing.map((tool) => tool.name))}\n`)
  const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" }
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", ...packages]]) {
    const run = spawnSync("apt-get", args, { env: aptEnv, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" })
    if (run.status !== 0) {
      const why = run.error?.message ?? run.stderr.trim().split("\n").at(-1) ?? `exit ${run.status}`
      stderr(`fazlab tests: apt-get ${args[0]} failed (${why}); install ${list(packages)} by hand, then run npm test again\n`)
      return 1
    }
  }
  const still = missingTools(pathVariable)
  if (still.length > 0) {
    stderr(`fazlab tests: ${list(packages)} ${packages.length === 1 ? "is" : "are"} installed but ${list(still.map((tool) => tool.name))} still not on PATH (${pathVariable}); add their folder (/usr/bin, /usr/sbin) to PATH, then run npm test again\n`)
    return 1
  }
  return 0
}

if (import.meta.main) process.exitCode = ensureTestTools(process.env, (text) => process.stderr.write(text))
