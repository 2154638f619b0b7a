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
