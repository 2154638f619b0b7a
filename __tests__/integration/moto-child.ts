// A process that starts local AWS and then ends as the test asks (moto-server.test.ts).
import { startMotoServer } from "../../tools/local-aws/moto-server";

async function main(how: string): Promise<void> {
  const moto = await startMotoServer();
  process.stdout.write(`${JSON.stringify({ endpoint: moto.endpoint, pid: moto.pid })}\n`);
  if (how === "crash") {
    // When the test says so (a line on stdin), not on a timer: the test first checks that moto answers.
    process.stdin.once("data", () => {
      throw new Error("an error nobody catches, after local AWS started");
    });
  } else {
    setInterval(() => undefined, 1_000); // until the test's SIGTERM
  }
}

void main(process.argv[2] ?? "");
