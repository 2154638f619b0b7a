import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { BatchResponse, SqsEvent } from "./handlers/landing-validator";

/**
 * One poll of Lambda's SQS event source mapping, done locally: receive a batch, give it to the handler, delete
 * what it handled. Messages it reports as failed (or all of them, if it throws) stay in the queue, come back after
 * the visibility timeout, and the queue's redrive policy moves them to the dead-letter queue after maxReceiveCount
 * receives, as in AWS (moto implements the redrive). Returns how many messages the poll received.
 */
export async function pollOnce(
  sqs: SQSClient,
  queueUrl: string,
  handler: (event: SqsEvent) => Promise<BatchResponse>,
): Promise<number> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  if (Messages.length === 0) return 0;
  let failed: Set<string>;
  try {
    const response = await handler({
      Records: Messages.map((m) => ({ messageId: String(m.MessageId), body: String(m.Body) })),
    });
    failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  } catch (error) {
    // As Lambda does: a function error fails the whole batch, and says why in the function's log.
    process.stderr.write(`landing validator failed: ${(error as Error).message}\n`);
    failed = new Set(Messages.map((m) => String(m.MessageId)));
  }
  const handled = Messages.filter((m) => !failed.has(String(m.MessageId)));
  if (handled.length) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: handled.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })),
      }),
    );
  }
  return Messages.length;
}

/** Polls until the queue gives nothing `quietPolls` times in a row (or `maxPolls` is reached). */
export async function drain(
  sqs: SQSClient,
  queueUrl: string,
  handler: (event: SqsEvent) => Promise<BatchResponse>,
  { quietPolls = 2, maxPolls = 50, pauseMs = 100 } = {},
): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < maxPolls && quiet < quietPolls; i++) {
    quiet = (await pollOnce(sqs, queueUrl, handler)) === 0 ? quiet + 1 : 0;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
