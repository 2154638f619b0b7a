import { type AthenaClient, GetWorkGroupCommand, type WorkGroup } from "@aws-sdk/client-athena";
import { UnreachableError } from "../cli/conventions";
import type { Verdict } from "./expectations";

export const WORKGROUP_CHECK_ID = "workgroup_enforces_encrypted_config";
export const WORKGROUP_CHECK_DESCRIPTION =
  "The lake's workgroup is enabled, enforces its configuration, encrypts results with SSE_KMS, runs engine v3 " +
  "and caps bytes scanned per query (read back through the Athena API).";
export const ENGINE_V3 = "Athena engine version 3";

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "AccessDeniedException",
]);

/** Reads the workgroup back; any failure here means the lake is not reachable as named (exit 3), with the reason. */
export async function readWorkgroup(client: AthenaClient, name: string): Promise<WorkGroup> {
  try {
    const res = await client.send(new GetWorkGroupCommand({ WorkGroup: name }));
    if (!res.WorkGroup) throw new UnreachableError(`workgroup '${name}' not found`);
    return res.WorkGroup;
  } catch (e) {
    if (e instanceof UnreachableError) throw e;
    const err = e as Error;
    if (CREDENTIAL_ERRORS.has(err.name)) {
      throw new UnreachableError(`no usable AWS credentials for Athena (${err.name}: ${err.message})`, {
        cause: e,
      });
    }
    throw new UnreachableError(`cannot read workgroup '${name}': ${err.name}: ${err.message}`, { cause: e });
  }
}

/** The workgroup's settings the lake relies on, each named when it is wrong. */
export function judgeWorkgroup(wg: WorkGroup): Verdict {
  const cfg = wg.Configuration ?? {};
  const enc = cfg.ResultConfiguration?.EncryptionConfiguration;
  const engine = cfg.EngineVersion?.EffectiveEngineVersion ?? cfg.EngineVersion?.SelectedEngineVersion;
  const problems: string[] = [];
  if (wg.State !== "ENABLED") problems.push(`state is ${wg.State ?? "unknown"}, expected ENABLED`);
  if (cfg.EnforceWorkGroupConfiguration !== true) {
    problems.push(
      "EnforceWorkGroupConfiguration is not true: clients could override results location/encryption",
    );
  }
  if (!cfg.ResultConfiguration?.OutputLocation) problems.push("no results OutputLocation configured");
  if (enc?.EncryptionOption !== "SSE_KMS") {
    problems.push(`results encryption is ${enc?.EncryptionOption ?? "not configured"}, expected SSE_KMS`);
  } else if (!enc.KmsKey) problems.push("SSE_KMS results encryption names no KMS key");
  if (engine !== ENGINE_V3) problems.push(`engine is '${engine ?? "unknown"}', expected '${ENGINE_V3}'`);
  const cutoff = cfg.BytesScannedCutoffPerQuery;
  if (!cutoff || cutoff <= 0) problems.push("no BytesScannedCutoffPerQuery: a runaway query is not capped");
  return problems.length === 0
    ? {
        passed: true,
        message: `enforced, SSE_KMS, ${ENGINE_V3}, cutoff ${cutoff} bytes`,
        details: [],
      }
    : { passed: false, message: `${problems.length} workgroup settings wrong`, details: problems };
}
