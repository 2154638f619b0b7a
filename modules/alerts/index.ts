import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import { allow, deny } from "../access/policy";
import { policyJson } from "../core";

export interface GlueFailureAlertsProps {
  readonly topicName: string;
  /** CMK encrypting the topic; its key policy must let events.amazonaws.com GenerateDataKey/Decrypt. */
  readonly topicKeyArn: string;
  readonly account: string;
  /** Glue jobs and crawlers whose failures alert. */
  readonly jobNames: string[];
  readonly crawlerNames: string[];
  /** Subscribed to the topic (the recipient confirms the subscription by e-mail). */
  readonly email?: string;
  /** CloudWatch alarms (ARNs) that may publish to the topic, e.g. the warehouse's. */
  readonly alarmArns?: string[];
  /** CloudWatch alarms (an ARN pattern of this account's alarms) that may publish to the topic. */
  readonly alarmArnPattern?: string;
  /** Whether AWS Budgets (this account's budgets) may publish to the topic. */
  readonly budgetsPublish?: boolean;
}

// Terminal states of a run that did not succeed (Glue Job State Change / Glue Crawler State Change events).
const FAILED_JOB_STATES = ["FAILED", "TIMEOUT", "ERROR", "STOPPED"];
const FAILED_CRAWLER_STATES = ["Failed"];

/**
 * Failure alerts for the lake's Glue jobs and crawlers: EventBridge rules matching their failure events
 * publish to a KMS-encrypted SNS topic that only those rules (in this account) may publish to.
 */
export class GlueFailureAlerts extends Construct {
  readonly topicArn: string;
  readonly ruleArns: string[];

  constructor(scope: Construct, id: string, props: GlueFailureAlertsProps) {
    super(scope, id);
    if (props.jobNames.length === 0 && props.crawlerNames.length === 0) {
      throw new Error("GlueFailureAlerts: name at least one Glue job or crawler to watch.");
    }
    const topic = new SnsTopic(this, "topic", {
      name: props.topicName,
      displayName: "Open Payments Lake alerts",
      kmsMasterKeyId: props.topicKeyArn,
    });

    const rules = [
      {
        id: "job-failures",
        description: "A lake Glue job run failed, timed out or was stopped",
        pattern: {
          "detail-type": ["Glue Job State Change"],
          detail: { jobName: props.jobNames, state: FAILED_JOB_STATES },
        },
        watched: props.jobNames,
      },
      {
        id: "crawler-failures",
        description: "A lake Glue crawler failed",
        pattern: {
          "detail-type": ["Glue Crawler State Change"],
          detail: { crawlerName: props.crawlerNames, state: FAILED_CRAWLER_STATES },
        },
        watched: props.crawlerNames,
      },
    ]
      .filter((rule) => rule.watched.length > 0)
      .map((rule) => {
        const eventRule = new CloudwatchEventRule(this, rule.id, {
          name: `${props.topicName}-${rule.id}`,
          description: rule.description,
          eventPattern: JSON.stringify({ source: ["aws.glue"], ...rule.pattern }),
        });
        new CloudwatchEventTarget(this, `${rule.id}-target`, { rule: eventRule.name, arn: topic.arn });
        return eventRule;
      });

    // Confused-deputy guard on CloudWatch alarms: this account's, and only those the condition names.
    const alarmsPublish = (sid: string, source: Record<string, Record<string, string | string[]>>) =>
      allow({
        sid,
        principal: { Service: "cloudwatch.amazonaws.com" },
        actions: ["sns:Publish"],
        resources: [topic.arn],
        conditions: { ...source, StringEquals: { "aws:SourceAccount": props.account } },
      });

    new SnsTopicPolicy(this, "policy", {
      arn: topic.arn,
      policy: policyJson([
        allow({
          sid: "GlueFailureRulesPublish",
          principal: { Service: "events.amazonaws.com" },
          actions: ["sns:Publish"],
          resources: [topic.arn],
          // Confused-deputy guard: only this account's failure rules.
          conditions: {
            ArnEquals: { "aws:SourceArn": rules.map((r) => r.arn) },
            StringEquals: { "aws:SourceAccount": props.account },
          },
        }),
        // The warehouse names its alarms (exact ARNs); the refresh's alarms share a name prefix (a pattern).
        ...(props.alarmArns?.length
          ? [alarmsPublish("CloudWatchAlarmsPublish", { ArnEquals: { "aws:SourceArn": props.alarmArns } })]
          : []),
        ...(props.alarmArnPattern
          ? [alarmsPublish("LakeAlarmsPublish", { ArnLike: { "aws:SourceArn": props.alarmArnPattern } })]
          : []),
        ...(props.budgetsPublish
          ? [
              allow({
                sid: "BudgetsPublish",
                principal: { Service: "budgets.amazonaws.com" },
                actions: ["sns:Publish"],
                resources: [topic.arn],
                conditions: { StringEquals: { "aws:SourceAccount": props.account } },
              }),
            ]
          : []),
        deny({
          sid: "DenyInsecureTransport",
          principal: "*",
          actions: ["sns:Publish", "sns:Subscribe"],
          resources: [topic.arn],
          conditions: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ]),
    });

    if (props.email) {
      new SnsTopicSubscription(this, "email", {
        topicArn: topic.arn,
        protocol: "email",
        endpoint: props.email,
      });
    }
    this.topicArn = topic.arn;
    this.ruleArns = rules.map((r) => r.arn);
  }
}
