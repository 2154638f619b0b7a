import { GlueFailureAlerts, type GlueFailureAlertsProps } from "../../modules/alerts";
import { onlyResource, resourcesOf, synthesize } from "../access/synth-support";

const props: GlueFailureAlertsProps = {
  topicName: "opl-dev-alerts",
  topicKeyArn: "arn:aws:kms:us-east-1:111111111111:key/logs",
  account: "111111111111",
  jobNames: ["opl-dev-clean", "opl-dev-curate"],
  crawlerNames: ["opl-dev-raw-crawler", "opl-dev-curated-crawler"],
  email: "alerts@example.org",
};

type Rule = { name: string; event_pattern: string };

describe("GlueFailureAlerts", () => {
  const stack = synthesize((scope) => new GlueFailureAlerts(scope, "alerts", props));
  const rules = Object.values(resourcesOf(stack, "aws_cloudwatch_event_rule")) as Rule[];
  const pattern = (suffix: string) =>
    JSON.parse((rules.find((r) => r.name.endsWith(suffix)) as Rule).event_pattern);

  it("encrypts the topic with the CMK", () => {
    expect(onlyResource(stack, "aws_sns_topic")).toMatchObject({
      name: "opl-dev-alerts",
      kms_master_key_id: props.topicKeyArn,
    });
  });

  it("matches failed, timed-out and stopped runs of the lake's jobs, and failed crawls", () => {
    expect(pattern("job-failures")).toEqual({
      source: ["aws.glue"],
      "detail-type": ["Glue Job State Change"],
      detail: { jobName: props.jobNames, state: ["FAILED", "TIMEOUT", "ERROR", "STOPPED"] },
    });
    expect(pattern("crawler-failures")).toEqual({
      source: ["aws.glue"],
      "detail-type": ["Glue Crawler State Change"],
      detail: { crawlerName: props.crawlerNames, state: ["Failed"] },
    });
  });

  it("sends every rule to the topic", () => {
    const targets = Object.values(resourcesOf(stack, "aws_cloudwatch_event_target"));
    expect(targets).toHaveLength(2);
    for (const t of targets) expect(t.arn).toMatch(/^\$\{aws_sns_topic\./);
  });

  it("lets only EventBridge, for these rules in this account, publish; denies insecure transport", () => {
    const policy = JSON.parse(onlyResource(stack, "aws_sns_topic_policy").policy as string);
    const [publish, tls] = policy.Statement;
    expect(publish).toMatchObject({
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["sns:Publish"],
      Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
    });
    expect(publish.Condition.ArnEquals["aws:SourceArn"]).toHaveLength(2);
    for (const arn of publish.Condition.ArnEquals["aws:SourceArn"])
      expect(arn).toMatch(/aws_cloudwatch_event_rule/);
    expect(tls).toMatchObject({
      Effect: "Deny",
      Principal: "*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("subscribes the configured e-mail", () => {
    expect(onlyResource(stack, "aws_sns_topic_subscription")).toMatchObject({
      protocol: "email",
      endpoint: "alerts@example.org",
    });
  });

  it("needs something to watch", () => {
    expect(() =>
      synthesize((scope) => new GlueFailureAlerts(scope, "a", { ...props, jobNames: [], crawlerNames: [] })),
    ).toThrow(/name at least one Glue job or crawler/);
  });
});
