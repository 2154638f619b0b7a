/** Crawler schema-change and recrawl policies, and the combinations Glue accepts. */

export type RecrawlBehavior = "CRAWL_EVERYTHING" | "CRAWL_NEW_FOLDERS_ONLY";
export type UpdateBehavior = "LOG" | "UPDATE_IN_DATABASE";
export type DeleteBehavior = "LOG" | "DELETE_FROM_DATABASE" | "DEPRECATE_IN_DATABASE";

export interface CrawlPolicy {
  readonly recrawlBehavior: RecrawlBehavior;
  readonly updateBehavior: UpdateBehavior;
  readonly deleteBehavior: DeleteBehavior;
}

/**
 * Throws with the rule when Glue would reject the policy at apply time (too late for a reviewer):
 * incremental crawls (new folders only) must log schema changes and deletions, and crawlers over existing
 * catalog tables may not delete them.
 */
export function validateCrawlPolicy(crawler: string, policy: CrawlPolicy, target: "s3" | "catalog"): void {
  if (
    policy.recrawlBehavior === "CRAWL_NEW_FOLDERS_ONLY" &&
    (policy.updateBehavior !== "LOG" || policy.deleteBehavior !== "LOG")
  ) {
    throw new Error(
      `crawler ${crawler}: recrawlBehavior CRAWL_NEW_FOLDERS_ONLY requires updateBehavior LOG and deleteBehavior ` +
        `LOG (got ${policy.updateBehavior}/${policy.deleteBehavior}).`,
    );
  }
  if (target === "catalog" && policy.deleteBehavior !== "LOG") {
    throw new Error(`crawler ${crawler}: a catalog-target crawler requires deleteBehavior LOG.`);
  }
}

/**
 * Raw is append-only (every CMS publication lands in a new `publication=` folder): crawl new folders only,
 * and never let a crawl rewrite or drop what earlier crawls recorded.
 */
export const RAW_CRAWL_POLICY: CrawlPolicy = {
  recrawlBehavior: "CRAWL_NEW_FOLDERS_ONLY",
  updateBehavior: "LOG",
  deleteBehavior: "LOG",
};

/**
 * Curated tables are defined by Terraform from the datasets file; the crawler only registers the program
 * year partitions the curate job rewrites, so it logs (never applies) schema changes and deletions.
 */
export const CURATED_CRAWL_POLICY: CrawlPolicy = {
  recrawlBehavior: "CRAWL_EVERYTHING",
  updateBehavior: "LOG",
  deleteBehavior: "LOG",
};
