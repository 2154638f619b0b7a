import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";

// Whatever ends the process that started local AWS (`local-lake up`, the refresh demo, a test), no moto is left
// holding its port. Real moto servers, real signals.

const child = join(__dirname, "moto-child.ts");
const tsx = join(__dirname, "..", "..", "node_modules", ".bin", "tsx");

interface Started {
  readonly process: ChildProcess;
  readonly endpoint: string;
  readonly pid: number;
}

async function start(how: string): Promise<Started> {
  const proc = spawn(tsx, [child, how], { stdio: ["pipe", "pipe", "pipe"] });
  let text = "";
  for await (const chunk of proc.stdout) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  const { endpoint, pid } = JSON.parse(text.split("\n")[0]) as { endpoint: string; pid: number };
  return { process: proc, endpoint, pid };
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    return (await fetch(`${endpoint}/moto-api/data.json`)).ok;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, endpoint: string): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid) && !(await answers(endpoint));
}

const exited = (proc: ChildProcess) =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : once(proc, "exit");

test.each([
  ["SIGTERM", "wait", (p: ChildProcess) => p.kill("SIGTERM")],
  ["an uncaught error", "crash", (p: ChildProcess) => p.stdin?.write("now\n")],
])(
  "local AWS stops when its process ends by %s",
  async (_, how, end) => {
    const started = await start(how);
    try {
      expect(await answers(started.endpoint)).toBe(true);
      end(started.process);
      await exited(started.process);
      expect(await gone(started.pid, started.endpoint)).toBe(true);
    } finally {
      if (alive(started.pid)) process.kill(started.pid, "SIGKILL"); // a failed run leaves no server behind
    }
  },
  60_000,
);
