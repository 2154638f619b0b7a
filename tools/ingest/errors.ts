/**
 * The ingestion CLI's errors. Every error the tool raises on purpose carries the exit code of the shared CLI
 * conventions (tools/cli/conventions.ts, documented in tools/ingest/README.md), so failures map without string
 * matching.
 */
import { FailedError, UnreachableError } from "../cli/conventions";

export { ExitCode, errorMessage, UsageError } from "../cli/conventions";

/** The input file itself is unusable (wrong header, truncated, empty, HTML page, corrupt ZIP). */
export class BadInputError extends FailedError {}

/** A new version with far fewer records than the previous verified one (refused unless --allow-shrink). */
export class ShrinkRefusedError extends BadInputError {}

/** S3 or DynamoDB could not be reached (network, credentials, missing bucket or table). */
export class AwsUnreachableError extends UnreachableError {}

/** The source (CMS or a local path) could not be read at all. */
export class SourceUnreachableError extends UnreachableError {}

/** Stored data does not match what was recorded (a part altered or lost after upload). */
export class ChecksumMismatchError extends FailedError {}
