/**
 * Exit codes of the ingestion CLI (documented in tools/ingest/README.md). Every error the tool raises on purpose
 * carries one, so the CLI can map failures without string matching.
 */
export const ExitCode = {
  ok: 0,
  /** At least one file failed to ingest (bad input, verification failure, cut download). */
  ingestionFailed: 1,
  /** Bad arguments or unusable input named on the command line. */
  usage: 2,
  /** S3 or DynamoDB could not be reached (network, credentials, missing bucket or table). */
  awsUnreachable: 3,
  /** The source (CMS or a local path) could not be read at all. */
  sourceUnreachable: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class IngestError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input file itself is unusable (wrong header, truncated, empty, HTML page, corrupt ZIP). */
export class BadInputError extends IngestError {
  constructor(message: string) {
    super(message, ExitCode.ingestionFailed);
  }
}

export class UsageError extends IngestError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

export class AwsUnreachableError extends IngestError {
  constructor(message: string) {
    super(message, ExitCode.awsUnreachable);
  }
}

export class SourceUnreachableError extends IngestError {
  constructor(message: string) {
    super(message, ExitCode.sourceUnreachable);
  }
}

/** Stored data does not match what was recorded (a part altered or lost after upload). */
export class ChecksumMismatchError extends IngestError {
  constructor(message: string) {
    super(message, ExitCode.ingestionFailed);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
