/** IAM / resource policy documents as typed data, rendered once to JSON (the form every AWS API takes). */

export type ConditionValues = Record<string, string | readonly string[] | boolean | number>;

export interface PolicyStatement {
  /** Short PascalCase reason for the statement; shows up in reviews and in AWS error messages. */
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?:
    | "*"
    | {
        readonly AWS?: string | readonly string[];
        readonly Service?: string | readonly string[];
        /** Web-identity trust (e.g. the GitHub OIDC provider's ARN). */
        readonly Federated?: string;
      };
  readonly Action: string | readonly string[];
  /** Absent only in role trust policies (the role itself is the resource). */
  readonly Resource?: string | readonly string[];
  readonly Condition?: Record<string, ConditionValues>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

/** Renders statements as a policy JSON string; Sids must be unique (AWS rejects duplicates in some services). */
export function policyJson(statements: readonly PolicyStatement[]): string {
  const seen = new Set<string>();
  for (const s of statements) {
    if (seen.has(s.Sid)) throw new Error(`duplicate policy statement Sid "${s.Sid}"`);
    if (!/^[A-Za-z0-9]+$/.test(s.Sid))
      throw new Error(`policy statement Sid "${s.Sid}" must be alphanumeric`);
    seen.add(s.Sid);
  }
  const doc: PolicyDocument = { Version: "2012-10-17", Statement: statements };
  return JSON.stringify(doc);
}

/** IAM's size limit of a customer-managed policy (characters, white space not counted). */
export const MANAGED_POLICY_MAX_CHARS = 6_144;
/** IAM's default quota of managed policies attached to one role. */
export const MANAGED_POLICIES_PER_ROLE = 10;

/** A cdktf string token (`${TfToken[TOKEN.12]}`): its value is only known when terraform applies. */
const TOKEN = /\$\{TfToken\[[^\]]*\]\}/g;
/**
 * What a token counts for when sizing a policy before apply: more than any ARN or name the lake passes as a
 * reference (a KMS key ARN in the longest partition and region is 90 characters).
 */
export const TOKEN_SIZE_ESTIMATE = 128;

/** A policy's size as IAM counts it (no white space), each unresolved token counted at its estimate. */
export function policySize(json: string): number {
  return json.replace(TOKEN, "x".repeat(TOKEN_SIZE_ESTIMATE)).replace(/\s/g, "").length;
}

/**
 * Packs statements, in order, into as few documents as fit `maxChars` each (first fit: a statement goes into
 * the first document with room, so a growing statement moves later ones rather than reordering the rest).
 * Throws naming the statement when one alone does not fit.
 */
export function packStatements(
  statements: readonly PolicyStatement[],
  maxChars: number = MANAGED_POLICY_MAX_CHARS,
): PolicyStatement[][] {
  const packs: PolicyStatement[][] = [];
  for (const s of statements) {
    if (policySize(policyJson([s])) > maxChars) {
      throw new Error(
        `IAM statement ${s.Sid} alone exceeds ${maxChars} characters: split it into smaller statements.`,
      );
    }
    const pack = packs.find((p) => policySize(policyJson([...p, s])) <= maxChars);
    if (pack) pack.push(s);
    else packs.push([s]);
  }
  return packs;
}
