/**
 * CPU time per thread of a running process, from Linux's `/proc/PID/task/TID/stat`, so that a
 * benchmark can say where each log's CPU goes and how many cores a rate needs (on two cores,
 * a pipeline whose threads together need more than the cores left by the sender loses UDP).
 *
 * `sampleThreadCpu(pid)` reads every live thread's user + system time, summed by thread name
 * (Node names its worker threads after `new Worker(..., { name })`: fazlab's are `fazlab-udp`,
 * `fazlab-store` and `fazlab-wal`; V8's helper threads are `V8Worker`; rsyslogd's `in:imudp`,
 * `rs:main Q:Reg` ...); `cpuSince(before, after)` is the difference. Threads that ended between
 * the two samples are not counted; the benchmark samples while the process still runs. Returns
 * an empty map where /proc is not there (not Linux).
 */
import * as fs from "node:fs"

/** Seconds of CPU (user + system) by thread name. */
export type ThreadCpu = ReadonlyMap<string, number>

/** USER_HZ: the unit of utime and stime in /proc (100 on every Linux fazlab runs on). */
const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of a /proc stat line, in seconds (fields 14 and 15; `comm` may hold spaces, so counted after its ")"). */
const statCpuSeconds = (stat: string): number => {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

/** The CPU seconds process `pid` has used so far, its ended threads included; null once it is gone. */
export const processCpuSeconds = (pid: number | undefined): number | null => {
  try {
    return statCpuSeconds(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return null
  }
}

/** The CPU seconds each thread name of `pid` has used so far. */
export const sampleThreadCpu = (pid: number | undefined): ThreadCpu => {
  const byName = new Map<string, number>()
  if (pid === undefined) return byName
  let tasks: string[]
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return byName
  }
  for (const task of tasks) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8")
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      byName.set(name, (byName.get(name) ?? 0) + statCpuSeconds(stat))
    } catch {
      // The thread ended while being read.
    }
  }
  return byName
}

/** CPU seconds used per thread name between two samples (threads new since `before` count from 0). */
export const cpuSince = (before: ThreadCpu, after: ThreadCpu): ThreadCpu =>
  new Map([...after].map(([name, seconds]) => [name, Math.max(0, seconds - (before.get(name) ?? 0))] as const).filter(([, seconds]) => seconds > 0))

/** "fazlab-store 8.1, MainThread 2.3, ... = 14.2 µs/log": CPU microseconds per log by thread, busiest first. */
export const perLogText = (cpu: ThreadCpu, logs: number): string => {
  if (logs === 0 || cpu.size === 0) return "not measured"
  const entries = [...cpu].sort((a, b) => b[1] - a[1])
  const total = entries.reduce((sum, [, seconds]) => sum + seconds, 0)
  const us = (seconds: number) => ((seconds * 1e6) / logs).toFixed(1)
  return `${entries.map(([name, seconds]) => `${name} ${us(seconds)}`).join(", ")} = ${us(total)} µs/log`
}

/** Total CPU seconds of a sample or difference. */
export const totalCpu = (cpu: ThreadCpu): number => [...cpu.values()].reduce((sum, seconds) => sum + seconds, 0)
