import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { QUARANTINE_METRIC } from "../../modules/orchestration/metrics";
import type { CleanReport } from "../smoke/job-reports";

/** Rows the clean job quarantined over rows it read, across the files of its last run; undefined if it read none. */
export function quarantineRatio(report: Pick<CleanReport, "files">): number | undefined {
  const read = report.files.reduce((n, f) => n + f.raw_records, 0);
  const quarantined = report.files.reduce((n, f) => n + f.quarantined, 0);
  return read === 0 ? undefined : quarantined / read;
}

/** Publishes the ratio of the clean job's last report for this lake (the alarm compares it with its bound). */
export async function publishQuarantineRatio(
  ratio: number,
  lake: string,
  aws: { region: string; endpoint?: string },
): Promise<void> {
  const client = new CloudWatchClient({
    region: aws.region,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    maxAttempts: 3,
  });
  try {
    await client.send(
      new PutMetricDataCommand({
        Namespace: QUARANTINE_METRIC.namespace,
        MetricData: [
          {
            MetricName: QUARANTINE_METRIC.name,
            Dimensions: [{ Name: QUARANTINE_METRIC.dimension, Value: lake }],
            Value: ratio,
            Unit: "None",
          },
        ],
      }),
    );
  } finally {
    client.destroy();
  }
}
