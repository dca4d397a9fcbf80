/**
 * Where a server's time per request goes: a V8 CPU profile of the server process taken only while a fixed
 * number of requests is served (the inspector's profiler, started and stopped over the child's stdin, so
 * start-up is not in it), its self time grouped by where the running code lives, divided by the requests.
 *
 * Used by server-overhead.ts to put the bare servers and bentoc side by side. The profiler samples wall
 * time: on a loaded machine the time a descheduled process waits lands on whatever it ran last (often a
 * syscall), so read the groups against each other, with the load average written beside them.
 */

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The group of a sample's innermost frame. */
function placeOf(frame: ProfileNode["callFrame"]): string | undefined {
  const { url, functionName } = frame;
  if (functionName === "(idle)") return undefined;
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)") return "V8 and native code outside JavaScript functions";
  const runtime = /\/dist\/runtime\/([^/]+)\//.exec(url);
  if (runtime) return `bentoc runtime/${runtime[1]}/`;
  if (url.includes("/bench/")) return "the bare handler (bench/server-overhead.ts)";
  if (url === "") return "native calls from JavaScript (syscalls such as writev, uWS)";
  if (url.startsWith("node:")) return "Node's own JavaScript (http, streams, events, timers)";
  if (url.includes("/node_modules/")) return "dependencies";
  return "other JavaScript";
}

/** Self time per group, in µs per request, largest first. */
export function timePerRequest(profile: CpuProfile, requests: number): Array<{ place: string; us: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const place = node ? placeOf(node.callFrame) : undefined;
    if (place !== undefined) total.set(place, (total.get(place) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...total].map(([place, us]) => ({ place, us: us / requests })).sort((a, b) => b.us - a.us);
}

/**
 * In a server child: `start` on stdin starts the profiler, `stop <file>` writes the profile there and
 * answers `PROFILED` on stdout.
 */
export function profileOnCommand(): void {
  const session = new Session();
  session.connect();
  let buf = "";
  process.stdin.on("data", (d: Buffer) => {
    buf += d.toString();
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
      void command(session, line);
    }
  });
}

async function command(session: Session, line: string): Promise<void> {
  if (line === "start") {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    process.stdout.write("PROFILING\n");
  } else if (line.startsWith("stop ")) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(line.slice(5), JSON.stringify(profile));
    process.stdout.write("PROFILED\n");
  }
}
