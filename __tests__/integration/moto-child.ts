// A process that starts local AWS and then ends as the test asks (moto-server.test.ts).
import { startMotoServer } from "../../tools/local-aws/moto-server";

async function main(how: string): Promise<void> {
  const moto = await startMotoServer();
  process.stdout.write(`${JSON.stringify({ endpoint: moto.endpoint, pid: moto.pid })}\n`);
  if (how === "crash") {
    setTimeout(() => {
      throw new Error("an error nobody catches, after local AWS started");
    }, 10);
  } else {
    setInterval(() => undefined, 1_000); // until the test's SIGTERM
  }
}

void main(process.argv[2] ?? "");
