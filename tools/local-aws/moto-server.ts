import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { onExit } from "signal-exit";

/** A moto server on loopback: the project's local AWS (no Docker). */
export interface MotoServer {
  /** e.g. http://127.0.0.1:45123 — pass as the endpoint of every AWS client and provider block. */
  readonly endpoint: string;
  readonly port: number;
  /** The server's process id. */
  readonly pid: number;
  /** Wipes every resource (moto's reset API) without restarting the process. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface MotoServerOptions {
  /** Fixed port; default: a free one chosen by the OS. */
  readonly port?: number;
  /** Where moto writes its log; default: inherit nothing (discarded). */
  readonly logFile?: string;
  /** How long to wait for the server to answer; default 30 s. */
  readonly startTimeoutMs?: number;
}

const repoRoot = resolve(__dirname, "..", "..");

/** Local fake credentials and region: moto accepts any, the SDKs insist on some. */
export const localAwsEnv = {
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_SESSION_TOKEN: "testing",
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
} as const;

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

function motoBinary(): string {
  const bin = join(repoRoot, ".venv", "bin", "moto_server");
  if (!existsSync(bin)) {
    throw new Error(`moto_server not found at ${bin}: run 'make setup' (or scripts/setup.sh) first`);
  }
  return bin;
}

export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const { openSync } = await import("node:fs");
  const out = options.logFile ? openSync(options.logFile, "a") : "ignore";
  const child: ChildProcess = spawn(motoBinary(), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", out, out],
    env: { ...process.env, ...localAwsEnv, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
  });
  let exited: number | null = null;
  // The server lives only as long as this process, however the process ends (a crash, a closed stdout, SIGTERM,
  // Ctrl-C): no moto is left holding its port. A kill is a synchronous system call, so it still runs in an exit
  // handler, where nothing asynchronous does.
  const removeExitHook = onExit(() => void child.kill("SIGKILL"));
  child.once("exit", (code) => {
    exited = code ?? -1;
    removeExitHook();
  });

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited !== null)
      throw new Error(`moto_server exited with code ${exited} before answering on ${endpoint}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `moto_server did not answer on ${endpoint} within ${options.startTimeoutMs ?? 30_000} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const pid = child.pid;
  if (pid === undefined) throw new Error(`moto_server answered on ${endpoint} but has no process id`);
  return {
    endpoint,
    port,
    pid,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    async stop() {
      if (exited !== null) return;
      await new Promise<void>((ok) => {
        child.once("exit", () => ok());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
    },
  };
}
