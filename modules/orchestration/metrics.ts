/** Where the refresh publishes the clean job's quarantine ratio: the smoke step writes it, an alarm watches it. */
export const QUARANTINE_METRIC = {
  namespace: "OpenPaymentsLake",
  name: "QuarantineRatio",
  dimension: "Lake",
} as const;
