import { errorMessage } from "./errors";

/** An error worth trying again (connection refused or reset, HTTP 5xx/429, a timeout). */
export class TransientError extends Error {}

export interface RetryPolicy {
  /** Total tries, including the first. */
  readonly attempts: number;
  /** Delay before the first retry; doubled each time, with jitter. */
  readonly baseDelayMs: number;
  readonly onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, baseDelayMs: 500 };

/** Retries only TransientErrors, with exponential backoff and full jitter; anything else fails at once. */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy = defaultRetryPolicy,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= policy.attempts) throw error;
      const delayMs = Math.round(Math.random() * policy.baseDelayMs * 2 ** (attempt - 1));
      policy.onRetry?.(attempt, error, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export function transient(what: string, error: unknown): TransientError {
  return new TransientError(`${what}: ${errorMessage(error)}`);
}
